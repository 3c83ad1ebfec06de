import { isIP } from 'node:net';

/**
 * `TRUST_PROXY`: which peers may tell the API a client's address in `X-Forwarded-For`.
 * `false`: none (the socket's address is the client's); a number: that many proxies in front,
 * whoever they are; a list: peers with these addresses, CIDRs or proxy-addr's named ranges;
 * `true`: every peer, so any client can name its own address (the per-IP limits then mean nothing).
 */
export type TrustProxySetting = boolean | number | readonly string[];

/** proxy-addr's (and so Fastify's) names for address ranges. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** What is wrong with one list entry, or undefined when proxy-addr takes it as meant. */
function entryProblem(entry: string): string | undefined {
  if (entry === '') return 'an empty entry in the list';
  if (NAMED_RANGES.has(entry)) return undefined;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return `"${entry}" is not an IP address or CIDR`;
  if (prefix === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  // A /0 would trust every peer: that is `true`, said on purpose.
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) < 1 || Number(prefix) > bits) {
    return `"${entry}" has a prefix length outside 1-${bits}`;
  }
  return undefined;
}

/** TRUST_PROXY's meaning, or why it has none. */
export function parseTrustProxy(value: string): { setting: TrustProxySetting } | { problem: string } {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === 'false') return { setting: false };
  if (trimmed === 'true') return { setting: true };
  if (/^\d+$/.test(trimmed)) {
    const hops = Number(trimmed);
    return Number.isSafeInteger(hops) ? { setting: hops } : { problem: 'hop count too large' };
  }
  const entries = trimmed.split(',').map((entry) => entry.trim());
  const problems = entries.map(entryProblem).filter((problem) => problem !== undefined);
  if (problems.length > 0) {
    return {
      problem:
        `${problems.join('; ')} (expected false, a hop count such as 1, or the proxies' addresses/CIDRs, ` +
        'comma-separated; loopback, linklocal and uniquelocal name those ranges)',
    };
  }
  return { setting: entries };
}

/** TRUST_PROXY as loadApiConfig accepted it (it refuses what this would throw on). */
export function trustProxySetting(value: string): TrustProxySetting {
  const parsed = parseTrustProxy(value);
  if ('problem' in parsed) throw new Error(`TRUST_PROXY: ${parsed.problem}`);
  return parsed.setting;
}

/** Who may set a request's client address: Fastify's `trustProxy` function form. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * A setting as Fastify's `trustProxy` option takes it. Fastify 5.12 reads a bare number as
 * "trust no one", so a hop count becomes the hop rule itself: the `hops` nearest peers are
 * trusted, and the client is the address the farthest of them saw. That holds only when the API
 * is reachable through the proxies alone; list their addresses when it is not.
 */
export function fastifyTrustProxy(setting: TrustProxySetting): boolean | string[] | ProxyTrust {
  if (typeof setting === 'boolean') return setting;
  if (typeof setting === 'number') return setting === 0 ? false : (_address, hop) => hop < setting;
  return [...setting];
}
