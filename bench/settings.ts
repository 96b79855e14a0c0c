/**
 * Where the benchmark finds Redis: REDIS_HOST / REDIS_PORT (127.0.0.1:6379 by
 * default) and BENCH_REDIS_DB (13 by default), a database of its own so that
 * other suites flushing theirs never empty the benchmark's sessions.
 */
export function redisSettings() {
  return {
    host: process.env.REDIS_HOST ?? '127.0.0.1',
    port: Number(process.env.REDIS_PORT ?? 6379),
    db: Number(process.env.BENCH_REDIS_DB ?? 13),
  }
}

/**
 * The ioredis options of the apps' connection: the defaults of a new app, or
 * with `BENCH_REDIS_AUTO_PIPELINING=1`, ioredis' auto-pipelining (commands of
 * concurrent requests sent in one socket write).
 */
export function appRedisSettings() {
  return {
    ...redisSettings(),
    enableAutoPipelining: process.env.BENCH_REDIS_AUTO_PIPELINING === '1',
  }
}
