import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Cluster, Redis } from 'ioredis'
import debug, { fingerprint } from '../debug.js'
import { E_SESSION_MERGE_CONFLICT } from '../errors.js'
import { DEFAULT_CACHE_BYTES } from '../byte_budget_cache.js'
import { DecodedPayloads } from '../decoded_payloads.js'
import {
  attachSnapshot,
  decodePayload,
  encodePayload,
  mergedData,
  METADATA_KEY,
  userIdOf,
} from '../payload.js'
import { RedisLocalCache } from './redis_local_cache.js'
import type {
  SessionChanges,
  SessionData,
  SessionMetadata,
  SessionStoreWithMergeContract,
  SessionStoreWithTaggingContract,
  TaggedSession,
} from '../types.js'

/**
 * An ioredis client or cluster client.
 */
type RedisClient = Redis | Cluster

/**
 * What the Redis store talks to: a connection of @adonisjs/redis (standalone
 * or cluster), or an ioredis `Redis` / `Cluster` instance.
 */
export type RedisStoreConnection = RedisClient | { ioConnection: RedisClient }

/**
 * How often a merge is tried when other requests keep changing the session in
 * between. Merges of one session are queued per process, so conflicts only
 * come from other processes (or from `write`/`tag` racing a merge).
 */
const MAX_MERGE_ATTEMPTS = 16

/**
 * The longest pause, in milliseconds, before trying a conflicting merge again.
 */
const MAX_MERGE_BACKOFF_MS = 50

/**
 * A random pause before the next try, growing with the number of conflicts,
 * so processes that keep colliding spread out instead of starving one another.
 */
function mergeBackoff(conflicts: number): Promise<void> | undefined {
  if (conflicts < 2) {
    return
  }
  return sleep(Math.random() * Math.min(2 ** conflicts, MAX_MERGE_BACKOFF_MS))
}

/**
 * Sets KEYS[1] to ARGV[2] with a TTL of ARGV[3] seconds only when it still
 * holds ARGV[1] (what the caller based its change on). Returns 1 when set, 0
 * when the key is gone (never recreated), or the current value to retry
 * against. Compares raw strings: no JSON is decoded in Lua. With `readBack`
 * (local cache on), it reads the key it set last, so that Redis tracks the new
 * value for this connection (any change ends a key's tracking, this
 * connection's too).
 */
function compareAndSetScript(readBack: boolean): string {
  return `local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])${readBack ? "\n  redis.call('GET', KEYS[1])" : ''}
  return 1
end
if current == false then
  return 0
end
return current`
}

/**
 * Pushes the TTL of KEYS[1] forward to ARGV[1] seconds and returns its value,
 * read last so that Redis tracks it (local cache).
 */
const TRACKED_READ_SCRIPT = `redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('GET', KEYS[1])`

/**
 * How often, at most, the TTL of a session read from the local cache is
 * pushed forward (as the id cookie's expiry): it may lag this much.
 */
const REFRESH_EVERY_MS = 60_000

/**
 * A Lua script with its SHA1, as EVALSHA wants it.
 */
interface Script {
  body: string
  sha: string
}

function script(body: string): Script {
  return { body, sha: createHash('sha1').update(body).digest('hex') }
}

const COMPARE_AND_SET = script(compareAndSetScript(false))
const TRACKED_COMPARE_AND_SET = script(compareAndSetScript(true))
const TRACKED_READ = script(TRACKED_READ_SCRIPT)

/**
 * True for the error Redis answers EVALSHA with when it lost the script.
 */
function isMissingScript(error: unknown): boolean {
  return String((error as Error)?.message).startsWith('NOSCRIPT')
}

/**
 * The changes of one session waiting in this process, whether a
 * compare-and-swap of them is in flight, and the payload the last one left in
 * Redis (so the next one compares against it, not against an older snapshot).
 */
interface MergeQueue {
  running: boolean
  waiting: QueuedUpdate[]
  latest?: string
}

/**
 * A change waiting in a session's queue, and the caller to answer once stored.
 */
interface QueuedUpdate {
  expected: string | undefined
  transform: Transform
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Builds the next data from the payload stored now; null when nothing must change.
 */
type Transform = (raw: string) => SessionData | null

/**
 * Sessions in Redis, readable and writable by @adonisjs/session too: the key is
 * the session id (plus an optional prefix), the value the official payload
 * `{"message":{...},"purpose":"<id>"}`, the TTL the session age, and a user's
 * sessions are the SET `session_tag:<userId>`.
 *
 * One command per request on the hot path: `read` is GETEX (refreshes the TTL,
 * so no touch is needed), `write` one SET … EX, and `merge` one compare-and-swap
 * script against the payload this request read. Every command touches one key,
 * so the store works on Redis Cluster. Needs Redis 6.2+ (GETEX, GETDEL).
 *
 * A session read again unchanged (the same raw value from Redis) is copied
 * from its decoded data instead of parsed again; that data, and the local
 * cache when it is on, stay within `cacheBytes` (16 MiB by default).
 */
export class RedisStore implements SessionStoreWithTaggingContract, SessionStoreWithMergeContract {
  /** `read()` refreshes the TTL (GETEX), so the session skips `touch()`. */
  readonly touchesOnRead = true

  #connection: () => RedisStoreConnection
  #ttlSeconds: number
  #prefix: string
  #mergeQueues = new Map<string, MergeQueue>()
  #connecting = new WeakMap<RedisClient, Promise<void>>()
  #localCache: boolean
  /** How often a cached session's TTL is pushed forward. */
  #refreshEveryMs: number
  #decoded: DecodedPayloads
  #localCacheBytes: number
  #mergeConflicts = 0

  /**
   * @param connection the connection, or a function returning it on every call
   *   (so a connection closed and reopened by @adonisjs/redis is picked up)
   * @param ageInSeconds the TTL of every session
   * @param prefix prepended to session keys and tag keys; none by default
   * @param options.localCache cache payloads in this process, kept valid by
   *   Redis (see RedisLocalCache); off by default, never on a cluster or a
   *   client with `enableAutoPipelining`
   * @param options.cacheBytes the most the decoded data of sessions read again
   *   may take, in bytes, and as much again for the local cache (16 MiB by
   *   default; 0 parses every read)
   */
  constructor(
    connection: RedisStoreConnection | (() => RedisStoreConnection),
    ageInSeconds: number,
    prefix: string = '',
    options: { localCache?: boolean; cacheBytes?: number } = {}
  ) {
    this.#connection = typeof connection === 'function' ? connection : () => connection
    this.#ttlSeconds = Math.max(1, Math.floor(ageInSeconds))
    this.#prefix = prefix
    this.#localCache = options.localCache ?? false
    this.#refreshEveryMs = Math.min(REFRESH_EVERY_MS, (this.#ttlSeconds * 1000) / 2)
    this.#localCacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES
    this.#decoded = new DecodedPayloads(this.#localCacheBytes)
  }

  /** The bytes the decoded data of sessions read again takes now (estimated). */
  get cachedBytes(): number {
    return this.#decoded.bytes
  }

  /**
   * How many compare-and-swaps of this store found the session changed by
   * someone else since it was read, and were tried again.
   */
  get mergeConflicts(): number {
    return this.#mergeConflicts
  }

  /** The local cache of a client, when one is used and Redis tracks its keys now. */
  #cacheOf(client: RedisClient): RedisLocalCache | undefined {
    const cache = this.#localCacheFor(client)
    return cache?.active ? cache : undefined
  }

  /** The local cache this store keeps for a client, whether tracking is on now or not. */
  #localCacheFor(client: RedisClient): RedisLocalCache | undefined {
    if (!this.#localCache || isCluster(client) || client.options.enableAutoPipelining) {
      return
    }
    return RedisLocalCache.of(client as Redis, this.#localCacheBytes)
  }

  /** The Redis key of a session. */
  keyOf(sessionId: string): string {
    return `${this.#prefix}${sessionId}`
  }

  /** The Redis key of a user's SET of session ids (`session_tag:<userId>`). */
  tagKeyOf(userId: string | number): string {
    return `${this.#prefix}session_tag:${userId}`
  }

  /**
   * The ioredis client. A client in the middle of connecting (or lazy, not
   * connected yet) is awaited until it is ready or the attempt fails, so the
   * first request after boot works with the offline queue off; one that is
   * disconnected is used as is, so commands fail or queue as its options say.
   */
  async #client(): Promise<RedisClient> {
    const connection = this.#connection()
    const client = 'ioConnection' in connection ? connection.ioConnection : connection
    if (client.status !== 'ready') {
      await this.#whileConnecting(client)
    }
    return client
  }

  /** Resolves once a connection attempt in progress succeeded or failed. */
  #whileConnecting(client: RedisClient): Promise<void> | undefined {
    if (client.status === 'wait') {
      client.connect().catch(() => {})
    } else if (client.status !== 'connecting' && client.status !== 'connect') {
      return
    }
    let connecting = this.#connecting.get(client)
    if (!connecting) {
      connecting = new Promise<void>((resolve) => {
        const settle = () => {
          for (const event of ['ready', 'close', 'end', 'error']) {
            client.removeListener(event, settle)
          }
          this.#connecting.delete(client)
          resolve()
        }
        for (const event of ['ready', 'close', 'end', 'error']) {
          client.once(event, settle)
        }
      })
      this.#connecting.set(client, connecting)
    }
    return connecting
  }

  /**
   * Read a session and refresh its TTL: from the local cache when Redis tracks
   * it for this process (the TTL is pushed forward at most once a minute),
   * else in one round trip. The same payload read again is copied from its
   * decoded data. A payload that cannot be decoded is deleted and reads as no
   * session.
   */
  async read(sessionId: string): Promise<SessionData | null> {
    const client = await this.#client()
    const key = this.keyOf(sessionId)
    const cache = this.#cacheOf(client)
    const raw = cache
      ? await this.#readCached(client, cache, key)
      : await client.getex(key, 'EX', this.#ttlSeconds)
    if (raw === null) {
      this.#decoded.forget(sessionId)
      return null
    }
    const data = this.#decoded.read(sessionId, raw)
    if (!data) {
      debug('redis store: removing the undecodable payload of session %s', fingerprint(sessionId))
      cache?.forget(cache.fullKey(key))
      await client.del(key)
      return null
    }
    return attachSnapshot(data, raw)
  }

  /**
   * A payload from the cache; on a miss, or when its TTL is due for a refresh,
   * one round trip: `CLIENT CACHING yes` and a script that refreshes the TTL
   * and reads the value last (any change to a key, an EXPIRE by this
   * connection too, ends its tracking).
   */
  async #readCached(client: RedisClient, cache: RedisLocalCache, key: string) {
    const fullKey = cache.fullKey(key)
    const cached = cache.lookup(fullKey)
    const now = Date.now()
    if (cached && now - cached.refreshedAt < this.#refreshEveryMs) {
      return cached.raw
    }
    return (await this.#runCaching(
      client,
      cache,
      key,
      TRACKED_READ,
      [1, key, this.#ttlSeconds],
      (value) => (typeof value === 'string' ? value : null)
    )) as string | null
  }

  /**
   * Read a session without refreshing its TTL (GET): what readonly sessions
   * use, so a websocket-style reader never keeps a session alive.
   */
  async peek(sessionId: string): Promise<SessionData | null> {
    const client = await this.#client()
    const key = this.keyOf(sessionId)
    const cache = this.#cacheOf(client)
    const raw = cache?.lookup(cache.fullKey(key))?.raw ?? (await client.get(key))
    const data = raw === null ? null : this.#decoded.read(sessionId, raw)
    return attachSnapshot(data, raw)
  }

  /**
   * Replace a session's data and reset its TTL (SET … EX). A session whose
   * metadata names a user is also added to that user's tag set, in the same
   * round trip, so it is listed even if a listing ran before this write.
   */
  async write(sessionId: string, data: SessionData): Promise<void> {
    const client = await this.#client()
    this.#forget(client, sessionId)
    const written = client.set(
      this.keyOf(sessionId),
      encodePayload(sessionId, data),
      'EX',
      this.#ttlSeconds
    )
    const userId = userIdOf(data)
    if (userId === undefined) {
      await written
      return
    }
    await Promise.all([written, client.sadd(this.tagKeyOf(userId), sessionId)])
  }

  /**
   * Apply one request's changes atomically: the changes are applied in
   * JavaScript to the payload this request read (`snapshot`), then stored only
   * if Redis still holds that payload; otherwise they are re-applied to what it
   * holds now and tried again. A session destroyed meanwhile stays destroyed.
   */
  async merge(sessionId: string, changes: SessionChanges, snapshot?: unknown): Promise<void> {
    await this.#update(sessionId, typeof snapshot === 'string' ? snapshot : undefined, (raw) =>
      mergedData(sessionId, raw, snapshot, changes)
    )
  }

  /**
   * Change a stored session with `transform`, compare-and-swap, queued per
   * session within this process. `expected` is the payload the change is
   * based on; when unknown, the current one is fetched first. The changes
   * that arrive while one is in flight go together in the next
   * compare-and-swap, applied in arrival order: parallel requests of one
   * session then cost one round trip per batch, not one each.
   */
  #update(sessionId: string, expected: string | undefined, transform: Transform): Promise<void> {
    return new Promise((resolve, reject) => {
      let queue = this.#mergeQueues.get(sessionId)
      if (!queue) {
        queue = { running: false, waiting: [] }
        this.#mergeQueues.set(sessionId, queue)
      }
      queue.waiting.push({ expected, transform, resolve, reject })
      if (!queue.running) {
        void this.#drain(sessionId, queue)
      }
    })
  }

  /** Store the waiting changes of a session, a batch at a time, until none is left. */
  async #drain(sessionId: string, queue: MergeQueue) {
    queue.running = true
    while (queue.waiting.length) {
      const batch = queue.waiting.splice(0)
      try {
        await this.#compareAndSwap(
          sessionId,
          queue.latest ?? batch[0].expected,
          (raw) => applyInOrder(sessionId, raw, batch),
          queue
        )
        for (const update of batch) update.resolve()
      } catch (error) {
        for (const update of batch) update.reject(error)
      }
    }
    queue.running = false
    this.#mergeQueues.delete(sessionId)
  }

  async #compareAndSwap(
    sessionId: string,
    basedOn: string | undefined,
    transform: Transform,
    queue: MergeQueue
  ): Promise<void> {
    const client = await this.#client()
    const key = this.keyOf(sessionId)
    let expected: string | null = basedOn ?? (await client.get(key))
    for (let attempt = 1; attempt <= MAX_MERGE_ATTEMPTS; attempt++) {
      const next = expected === null ? null : transform(expected)
      if (!next) {
        queue.latest = undefined
        return
      }
      const payload = encodePayload(sessionId, next)
      const result = await this.#runCompareAndSet(client, key, expected!, payload)
      if (result === 1 || result === 0) {
        queue.latest = result === 1 ? payload : undefined
        return
      }
      this.#mergeConflicts++
      debug('redis store: session %s changed meanwhile, merging again', fingerprint(sessionId))
      expected = String(result)
      await mergeBackoff(attempt)
    }
    queue.latest = undefined
    throw new E_SESSION_MERGE_CONFLICT([MAX_MERGE_ATTEMPTS])
  }

  /**
   * Run the compare-and-set script. With the local cache on, it runs tracked
   * and reads the key it set last, so the session stays cached after this
   * process wrote it: one round trip, two commands.
   */
  async #runCompareAndSet(client: RedisClient, key: string, expected: string, payload: string) {
    const args = [1, key, expected, payload, this.#ttlSeconds] as const
    const cache = this.#cacheOf(client)
    if (!cache) {
      return (await this.#runScript(client, COMPARE_AND_SET, args)) as number | string
    }
    return (await this.#runCaching(client, cache, key, TRACKED_COMPARE_AND_SET, args, (result) =>
      result === 1 ? payload : null
    )) as number | string
  }

  /**
   * Run a script tracked and cache what it left in the key: `kept` maps the
   * script's result to that payload (null caches nothing). A read or write of
   * the key that starts meanwhile, or an invalidation, wins over this one.
   */
  async #runCaching(
    client: RedisClient,
    cache: RedisLocalCache,
    key: string,
    trackedScript: Script,
    args: readonly (string | number)[],
    kept: (result: unknown) => string | null
  ): Promise<unknown> {
    const fullKey = cache.fullKey(key)
    const pending = cache.begin(fullKey)
    const now = Date.now()
    let outcome: { tracked: boolean; value: unknown }
    try {
      outcome = await this.#runTracked(client, trackedScript, args)
    } catch (error) {
      cache.forget(fullKey)
      throw error
    }
    if (outcome.tracked) {
      cache.complete(fullKey, pending, kept(outcome.value), now)
    } else {
      cache.reset()
    }
    return outcome.value
  }

  /** EVALSHA a script; EVAL it when Redis does not have it cached. */
  async #runScript(client: RedisClient, { body, sha }: Script, args: readonly (string | number)[]) {
    try {
      return await client.evalsha(sha, ...(args as [number, string]))
    } catch (error) {
      if (!isMissingScript(error)) {
        throw error
      }
      return await client.eval(body, ...(args as [number, string]))
    }
  }

  /**
   * Run a script right after `CLIENT CACHING yes`, so Redis tracks the keys it
   * reads for this connection (EVAL, with tracking again, when Redis lost the
   * script). `tracked` is false when tracking is off (the connection was
   * replaced): nothing read may then be cached.
   */
  async #runTracked(
    client: RedisClient,
    { body, sha }: Script,
    args: readonly (string | number)[]
  ) {
    const run = (command: 'evalsha' | 'eval', source: string) =>
      Promise.allSettled([
        client.call('CLIENT', 'CACHING', 'yes'),
        client[command](source, ...(args as [number, string])),
      ])
    let [tracking, result] = await run('evalsha', sha)
    if (result.status === 'rejected' && isMissingScript(result.reason)) {
      ;[tracking, result] = await run('eval', body)
    }
    if (result.status === 'rejected') {
      throw result.reason
    }
    return { tracked: tracking.status === 'fulfilled', value: result.value }
  }

  /** Drop a session from the caches before this process changes it. */
  #forget(client: RedisClient, sessionId: string) {
    this.#decoded.forget(sessionId)
    const cache = this.#localCacheFor(client)
    cache?.forget(cache.fullKey(this.keyOf(sessionId)))
  }

  /**
   * Remove a session (GETDEL) and, when its metadata names a user, its entry in
   * that user's tag set.
   */
  async destroy(sessionId: string): Promise<void> {
    const client = await this.#client()
    this.#forget(client, sessionId)
    const raw = await client.getdel(this.keyOf(sessionId))
    const userId = raw === null ? undefined : userIdOf(decodePayload(sessionId, raw))
    if (userId !== undefined) {
      await client.srem(this.tagKeyOf(userId), sessionId)
    }
  }

  /** Reset the TTL of a live session (EXPIRE); a missing or expired one stays gone. */
  async touch(sessionId: string): Promise<void> {
    const client = await this.#client()
    await client.expire(this.keyOf(sessionId), this.#ttlSeconds)
  }

  /**
   * Link a session to a user: add it to `session_tag:<userId>` and, when the
   * session is stored already, record the user in its metadata (so `destroy`
   * and `untag` know which set to leave). Moving a session to another user
   * removes it from the previous user's set.
   */
  async tag(sessionId: string, userId: string | number): Promise<void> {
    const user = String(userId)
    const client = await this.#client()
    const [, raw] = await Promise.all([
      client.sadd(this.tagKeyOf(user), sessionId),
      client.get(this.keyOf(sessionId)),
    ])
    const previous = raw === null ? undefined : userIdOf(decodePayload(sessionId, raw))
    if (raw === null || previous === user) {
      return
    }
    if (previous !== undefined) {
      await client.srem(this.tagKeyOf(previous), sessionId)
    }
    await this.#update(sessionId, raw, (stored) => withUserId(sessionId, stored, user))
  }

  /**
   * Remove the user link of a session: its entry in the user's tag set and the
   * user in its metadata. Sessions tagged by @adonisjs/session carry no user in
   * their data; they leave the set when they end (see `tagged`).
   */
  async untag(sessionId: string): Promise<void> {
    const client = await this.#client()
    const raw = await client.get(this.keyOf(sessionId))
    const userId = raw === null ? undefined : userIdOf(decodePayload(sessionId, raw))
    if (userId === undefined) {
      return
    }
    await client.srem(this.tagKeyOf(userId), sessionId)
    await this.#update(sessionId, raw!, (stored) => withUserId(sessionId, stored, undefined))
  }

  /**
   * The live sessions of a user. Their payloads are fetched with one GET each,
   * sent together (never MGET, whose keys may live on different cluster
   * nodes); ids whose session ended, or that now belongs to another user, are
   * removed from the set.
   */
  async tagged(userId: string | number): Promise<TaggedSession[]> {
    const user = String(userId)
    const client = await this.#client()
    const tagKey = this.tagKeyOf(user)
    const ids = await client.smembers(tagKey)
    const payloads = await Promise.all(ids.map((id) => client.get(this.keyOf(id))))
    const sessions: TaggedSession[] = []
    const stale: string[] = []
    ids.forEach((id, index) => {
      const raw = payloads[index]
      const data = raw === null ? null : decodePayload(id, raw)
      const owner = userIdOf(data)
      if (data && (owner === undefined || owner === user)) {
        sessions.push({ id, data })
      } else {
        stale.push(id)
      }
    })
    if (stale.length) {
      await client.srem(tagKey, ...stale)
    }
    return sessions
  }

  /**
   * Redis expires sessions by itself; this removes the ids of ended sessions
   * from every tag set (SCAN on every node). Returns how many were removed.
   */
  async prune(): Promise<number> {
    const client = await this.#client()
    let removed = 0
    for (const tagKey of await this.#tagKeys(client)) {
      const ids = await client.smembers(tagKey)
      const exists = await Promise.all(ids.map((id) => client.exists(this.keyOf(id))))
      const ended = ids.filter((_, index) => exists[index] === 0)
      if (ended.length) {
        removed += await client.srem(tagKey, ...ended)
      }
    }
    return removed
  }

  /** Every tag set key, scanned on each master of a cluster. */
  async #tagKeys(client: RedisClient): Promise<string[]> {
    const nodes = isCluster(client) ? (client as Cluster).nodes('master') : [client as Redis]
    /* SCAN does not apply the connection's keyPrefix: match it, then strip it. */
    const connectionPrefix = client.options.keyPrefix ?? ''
    const pattern = `${globEscape(connectionPrefix + this.tagKeyOf(''))}*`
    const keys = new Set<string>()
    for (const node of nodes) {
      let cursor = '0'
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
        cursor = next
        for (const key of batch) {
          keys.add(key.slice(connectionPrefix.length))
        }
      } while (cursor !== '0')
    }
    return [...keys]
  }
}

/**
 * The data after a batch of queued changes, each applied to what the one
 * before it left (null when none of them changes anything).
 */
function applyInOrder(sessionId: string, raw: string, batch: QueuedUpdate[]): SessionData | null {
  let current = raw
  let next: SessionData | null = null
  for (const [index, update] of batch.entries()) {
    const data = update.transform(current)
    if (data) {
      next = data
      if (index < batch.length - 1) {
        current = encodePayload(sessionId, data)
      }
    }
  }
  return next
}

/**
 * True for an ioredis Cluster client.
 */
function isCluster(client: RedisClient): boolean {
  return 'nodes' in client && typeof client.nodes === 'function'
}

/**
 * Session data with the user of its metadata set (or removed when undefined).
 * Sessions without metadata get fresh timestamps.
 */
function withUserId(
  sessionId: string,
  raw: string,
  userId: string | undefined
): SessionData | null {
  const data = decodePayload(sessionId, raw)
  if (!data || userIdOf(data) === userId) {
    return null
  }
  const now = Date.now()
  const current = data[METADATA_KEY] as SessionMetadata | undefined
  const metadata: SessionMetadata =
    current && typeof current === 'object' ? { ...current } : { createdAt: now, lastSeenAt: now }
  if (userId === undefined) {
    delete metadata.userId
  } else {
    metadata.userId = userId
  }
  return { ...data, [METADATA_KEY]: metadata as any }
}

/**
 * Escape the glob characters of SCAN MATCH.
 */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
