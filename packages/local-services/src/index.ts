export { aptInstall, canInstallWithApt, type Machine, thisMachine } from './apt.js';
export { findExecutable } from './executables.js';
export { COMMON_REDIS_DIRS, findRedisServer } from './find-redis-server.js';
export {
  obtainRedisServer,
  RedisServerMissingError,
  type RedisServerSources,
  redisInstallHint,
} from './obtain-redis-server.js';
export { type LocalPgBouncer, startPgBouncer } from './pgbouncer.js';
export { freeClusterPort, freePort, portIsFree } from './ports.js';
export {
  type LocalPostgres,
  type LocalPostgresOptions,
  PostgresStartError,
  startLocalPostgres,
} from './postgres.js';
export {
  embeddedPostgresBinaries,
  findPostgresBinaries,
  type PostgresBinaries,
  systemPostgresBinaries,
} from './postgres-binaries.js';
export { firstDirClosedToOthers } from './postgres-user.js';
export { type LocalRedis, startLocalRedis } from './redis.js';
export { type LocalRedisCluster, startRedisCluster } from './redis-cluster.js';
export { type ServerProcess, stopLocalServicesSync } from './server-process.js';
