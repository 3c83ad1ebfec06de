/**
 * Where Redis is: one server (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES) or a primary found
 * through Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_NAME); exactly one of them.
 *
 * The node lists are `host:port,host:port…`. An entry may also be written as a URL,
 * `rediss://user:password@host:port`, to carry what REDIS_URL carries for one server: the
 * credentials (ACL user and password) and TLS (`rediss:`). Every entry of a list must then agree
 * on them, since one client uses one set. Through Sentinel they apply to the sentinels and to the
 * primary and replicas alike.
 */
export interface RedisSettings {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
}

export interface RedisNode {
  host: string;
  port: number;
}

export interface RedisNodeList {
  nodes: RedisNode[];
  username?: string;
  password?: string;
  tls: boolean;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$/;

/** A node list setting, or why it is not one. */
export function parseRedisNodes(value: string): RedisNodeList | { problem: string } {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return { problem: 'lists no node (host:port,host:port…)' };
  const parsed: { node: RedisNode; access: string; username?: string; password?: string; tls: boolean }[] =
    [];
  for (const entry of entries) {
    const isUrl = /^rediss?:\/\//.test(entry);
    const url = isUrl ? URL.parse(entry) : undefined;
    const hostPort = url ? url.host : entry;
    const match = HOST_PORT.exec(hostPort);
    const port = Number(match?.[2]);
    // Said without the entry: a URL entry may hold a password.
    if ((isUrl && !url) || !match?.[1] || port < 1 || port > 65535) {
      return {
        problem: `entry ${parsed.length + 1} is not host:port (nor redis[s]://[user:password@]host:port)`,
      };
    }
    const username = url?.username ? decodeURIComponent(url.username) : undefined;
    const password = url?.password ? decodeURIComponent(url.password) : undefined;
    const tls = url?.protocol === 'rediss:';
    parsed.push({
      node: { host: match[1].replace(/^\[(.*)\]$/, '$1'), port },
      access: JSON.stringify([username, password, tls]),
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      tls,
    });
  }
  const [first] = parsed;
  if (!first) return { problem: 'lists no node (host:port,host:port…)' };
  if (parsed.some((entry) => entry.access !== first.access)) {
    return { problem: 'entries differ in credentials or TLS (one client uses one set for every node)' };
  }
  return {
    nodes: parsed.map((entry) => entry.node),
    ...(first.username ? { username: first.username } : {}),
    ...(first.password ? { password: first.password } : {}),
    tls: first.tls,
  };
}

/** The cross-field rules of the four settings, as configuration problems. */
export function redisSettingsProblems(settings: RedisSettings): string[] {
  const chosen = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter(
    (name) => settings[name],
  );
  if (chosen.length === 0) {
    return [
      'REDIS_URL: required but not set (or REDIS_CLUSTER_NODES for a Redis Cluster, or REDIS_SENTINELS ' +
        'with REDIS_SENTINEL_NAME for Sentinel)',
    ];
  }
  const problems: string[] = [];
  if (chosen.length > 1) {
    problems.push(`${chosen.join(', ')}: set only one of them (one Redis, one way to reach it)`);
  }
  if (settings.REDIS_SENTINELS && !settings.REDIS_SENTINEL_NAME) {
    problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name the sentinels monitor)');
  }
  if (settings.REDIS_SENTINEL_NAME && !settings.REDIS_SENTINELS) {
    problems.push('REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS');
  }
  for (const name of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const) {
    const value = settings[name];
    const parsed = value === undefined ? undefined : parseRedisNodes(value);
    if (parsed && 'problem' in parsed) problems.push(`${name}: ${parsed.problem}`);
  }
  return problems;
}
