import type { Redis } from 'ioredis'
import { ByteBudgetCache, DEFAULT_CACHE_BYTES, stringBytes } from '../byte_budget_cache.js'
import debug from '../debug.js'

/**
 * The Pub/Sub channel Redis sends key invalidations to (RESP2 tracking).
 */
const INVALIDATION_CHANNEL = '__redis__:invalidate'

/**
 * The pause between two attempts to turn tracking on; it doubles after each
 * failed attempt (a server that refuses `CLIENT TRACKING`, an ACL), up to a minute.
 */
const RESTART_AFTER_MS = 1000
const RESTART_AFTER_MAX_MS = 60_000

/**
 * A payload Redis holds, as this process last read it, and when its TTL was
 * last refreshed.
 */
export interface CachedPayload {
  raw: string
  refreshedAt: number
}

/**
 * A read in flight: it may be cached when it lands, unless the key changed meanwhile.
 */
export type PendingRead = object

function cachedPayloadBytes(payload: CachedPayload): number {
  return stringBytes(payload.raw) + 48
}

const caches = new WeakMap<Redis, RedisLocalCache>()

/**
 * Session payloads kept in this process and kept valid by Redis itself
 * (server-assisted client-side caching): the store's connection turns
 * `CLIENT TRACKING ON … OPTIN NOLOOP` on, reads it wants cached go with
 * `CLIENT CACHING yes`, and Redis tells a second connection of ours when
 * another client changes or deletes one of those keys. A request that only
 * reads a cached session then costs no round trip at all.
 *
 * Only what Redis tracks for this connection is cached: payloads read with
 * tracking on. A change ends a key's tracking (NOLOOP or not), so the store's
 * scripts read the key last, tracked, in the same round trip. Whenever
 * either connection drops, the cache empties and stays off until tracking is
 * on again. One cache per ioredis client, shared by the stores using it,
 * holding payloads within a byte budget (least recently used forgotten first).
 */
export class RedisLocalCache {
  #client: Redis
  #subscriber: Redis | undefined
  #subscriberClientId: number | undefined
  #entries: ByteBudgetCache<string, CachedPayload>
  #pending = new Map<string, PendingRead>()
  #active = false
  #starting = false
  #lastStart = 0
  #restartAfterMs = RESTART_AFTER_MS

  /**
   * The cache of an ioredis client, created on first use with `budgetBytes`
   * (the most its payloads may take; 16 MiB by default).
   */
  static of(client: Redis, budgetBytes: number = DEFAULT_CACHE_BYTES): RedisLocalCache {
    let cache = caches.get(client)
    if (!cache) {
      cache = new RedisLocalCache(client, budgetBytes)
      caches.set(client, cache)
    }
    return cache
  }

  private constructor(client: Redis, budgetBytes: number) {
    this.#client = client
    this.#entries = new ByteBudgetCache(budgetBytes, cachedPayloadBytes)
    client.on('close', () => this.#deactivate())
    client.on('end', () => this.#closeSubscriber())
  }

  /** The bytes the cached payloads take now (estimated). */
  get bytes(): number {
    return this.#entries.bytes
  }

  /** True while Redis tracks the keys this cache holds. */
  get active(): boolean {
    if (!this.#active) {
      this.#startSoon()
    }
    return this.#active
  }

  /** The key Redis reports for a key of this client (with its `keyPrefix`). */
  fullKey(key: string): string {
    return `${this.#client.options.keyPrefix ?? ''}${key}`
  }

  /** The cached payload of a key, if any. */
  lookup(fullKey: string): CachedPayload | undefined {
    return this.#entries.get(fullKey)
  }

  /** Mark a tracked read of a key as started; pass the result to `complete`. */
  begin(fullKey: string): PendingRead {
    const pending = {}
    this.#pending.set(fullKey, pending)
    this.#entries.delete(fullKey)
    return pending
  }

  /**
   * Cache what a tracked read returned, unless the key was invalidated or
   * written while the read was in flight (then Redis may have sent the
   * invalidation before the reply).
   */
  complete(fullKey: string, pending: PendingRead, raw: string | null, refreshedAt: number) {
    if (this.#pending.get(fullKey) !== pending) {
      return
    }
    this.#pending.delete(fullKey)
    if (raw === null || !this.#active) {
      return
    }
    this.#entries.set(fullKey, { raw, refreshedAt })
  }

  /** Drop a key (it was written, deleted or invalidated). */
  forget(fullKey: string) {
    this.#entries.delete(fullKey)
    this.#pending.delete(fullKey)
  }

  /** Stop caching until tracking is confirmed again (a tracked read failed). */
  reset() {
    this.#deactivate()
  }

  #deactivate() {
    this.#active = false
    this.#entries.clear()
    this.#pending.clear()
  }

  #closeSubscriber() {
    this.#deactivate()
    const subscriber = this.#subscriber
    this.#subscriber = undefined
    subscriber?.disconnect()
  }

  /** Turn tracking on in the background (at most once a second, less often after failures). */
  #startSoon() {
    const now = Date.now()
    if (
      this.#starting ||
      this.#client.status !== 'ready' ||
      now - this.#lastStart < this.#restartAfterMs
    ) {
      return
    }
    this.#starting = true
    this.#lastStart = now
    this.#start()
      .then(() => {
        this.#restartAfterMs = RESTART_AFTER_MS
      })
      .catch((error) => {
        debug('redis store: local cache stays off: %s', (error as Error)?.message)
        this.#restartAfterMs = Math.min(this.#restartAfterMs * 2, RESTART_AFTER_MAX_MS)
        this.#closeSubscriber()
      })
      .finally(() => {
        this.#starting = false
      })
  }

  async #start() {
    const subscriberId = await this.#subscriberId()
    await this.#client
      .pipeline()
      .client('TRACKING', 'OFF')
      .client('TRACKING', 'ON', 'REDIRECT', subscriberId, 'OPTIN', 'NOLOOP')
      .exec()
      .then((results) => {
        const failed = results?.find(([error]) => error)
        if (failed) throw failed[0]
      })
    this.#entries.clear()
    this.#active = this.#client.status === 'ready' && this.#subscriber !== undefined
  }

  /**
   * The client id of the connection that receives invalidations, connecting it
   * first. It never reconnects by itself: when it drops, caching stops.
   */
  async #subscriberId(): Promise<number> {
    if (this.#subscriber?.status === 'ready') {
      return this.#subscriberClientId!
    }
    this.#subscriber?.disconnect()
    const subscriber = this.#client.duplicate({
      lazyConnect: true,
      retryStrategy: () => null,
      autoResubscribe: false,
      enableOfflineQueue: false,
      connectionName: `${this.#client.options.connectionName ?? 'session'}:invalidations`,
    })
    this.#subscriber = subscriber
    subscriber.on('error', () => {})
    subscriber.on('close', () => {
      if (this.#subscriber === subscriber) {
        this.#subscriber = undefined
        this.#deactivate()
      }
    })
    subscriber.on('messageBuffer', (_channel: Buffer, keys: Buffer[] | null) =>
      this.#invalidate(keys)
    )
    await subscriber.connect()
    subscriber.stream?.unref()
    this.#subscriberClientId = (await subscriber.client('ID')) as number
    await subscriber.subscribe(INVALIDATION_CHANNEL)
    return this.#subscriberClientId
  }

  /** Drop invalidated keys; `null` means Redis flushed its tracking table. */
  #invalidate(keys: Buffer[] | null) {
    if (!Array.isArray(keys)) {
      this.#entries.clear()
      this.#pending.clear()
      return
    }
    for (const key of keys) {
      this.forget(key.toString())
    }
  }
}
