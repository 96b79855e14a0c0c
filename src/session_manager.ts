import type { HttpContext } from '@adonisjs/core/http'
import type { EmitterService } from '@adonisjs/core/types'
import debug from './debug.js'
import { KeyRing } from './key_ring.js'
import type { AppSecrets } from './framework.js'
import { guardStore } from './guarded_store.js'
import { METADATA_KEY } from './payload.js'
import { Session } from './session.js'
import { assertSessionId, isValidSessionId, SessionCookies } from './session_cookies.js'
import { E_INVALID_SESSION_CONFIG, E_SESSION_TAGGING_NOT_SUPPORTED } from './errors.js'
import type {
  ResolvedSessionConfig,
  SessionData,
  SessionMetadata,
  SessionStoreCapabilities,
  SessionStoreFactory,
  SessionStoreContract,
  SessionStoreWithTaggingContract,
  TaggedSession,
} from './types.js'

/**
 * Stores shared by every manager made from one config (the manager and its
 * `use()` views).
 */
type StoreCache = Map<string, SessionStoreContract>

/**
 * Owns the session config and the store instances: creates the `Session` of
 * each request and offers the session API outside HTTP (read, destroy, list
 * and end a user's sessions). Available as `services/main`.
 */
export class SessionManager {
  #emitter: EmitterService
  #cache: StoreCache
  #storeName: string

  /** The resolved config. */
  readonly config: ResolvedSessionConfig

  /** Signs and encrypts the session cookies. */
  readonly cookies: SessionCookies

  constructor(
    config: ResolvedSessionConfig,
    emitter: EmitterService,
    appKey: string | AppSecrets,
    storeName: string = config.store,
    shared?: { cache: StoreCache; cookies: SessionCookies }
  ) {
    this.config = config
    this.#emitter = emitter
    this.#storeName = storeName
    this.#cache = shared?.cache ?? new Map()
    this.cookies = shared?.cookies ?? this.#createCookies(appKey)
    this.config.sessionCookies = this.cookies
    if (!(storeName in config.stores)) {
      throw new E_INVALID_SESSION_CONFIG([
        `there is no store named "${storeName}". Choose one of: ${Object.keys(config.stores).join(', ')}`,
      ])
    }
  }

  /**
   * The cookies signed with the app's keys (the app key, or on AdonisJS 7 the
   * keys of `config/encryption.ts`) followed by `previousKeys`.
   */
  #createCookies(appKey: string | AppSecrets): SessionCookies {
    const secrets = typeof appKey === 'string' ? { keys: [appKey] } : appKey
    const keys = [...secrets.keys, ...this.config.previousKeys].map(String)
    for (const key of keys) {
      if (!key || key.length < 16) {
        throw new E_INVALID_SESSION_CONFIG([
          'the app key (APP_KEY) and every "previousKeys" entry must be at least 16 characters. Run "node ace generate:key"',
        ])
      }
    }
    const maxAge = this.config.clearWithBrowser ? undefined : this.config.cookie.maxAge
    return new SessionCookies(
      this.config.cookieName,
      this.config.cookie,
      maxAge as number | undefined,
      new KeyRing(keys, {
        encrypterFor: 'encrypterFor' in secrets ? secrets.encrypterFor : undefined,
      })
    )
  }

  /** The name of the store this manager uses. */
  get storeName(): string {
    return this.#storeName
  }

  /** A view of this manager that uses another configured store. */
  use(storeName: string): SessionManager {
    return new SessionManager(this.config, this.#emitter, '', storeName, {
      cache: this.#cache,
      cookies: this.cookies,
    })
  }

  /**
   * Make this manager, and so every request from now on, use another configured
   * store. The Japa plugins switch the app to the memory store this way, so the
   * sessions a test seeds are the ones the app reads.
   */
  swap(storeName: string): void {
    if (!(storeName in this.config.stores)) {
      throw new E_INVALID_SESSION_CONFIG([
        `there is no store named "${storeName}". Choose one of: ${Object.keys(this.config.stores).join(', ')}`,
      ])
    }
    this.#storeName = storeName
  }

  /**
   * The store for a request (or outside HTTP), guarded with the store timeout.
   * Shared stores are created once and reused.
   */
  store(ctx?: HttpContext): SessionStoreContract & SessionStoreCapabilities {
    const cached = this.#cache.get(this.#storeName)
    if (cached) {
      return cached
    }
    const factory = this.config.stores[this.#storeName] as SessionStoreFactory & {
      shared?: boolean
      inProcess?: boolean
    }
    const created = factory(ctx as HttpContext, this.config)
    const store = factory.inProcess
      ? created
      : guardStore(this.#storeName, created, this.config.storeTimeout)
    if (factory.shared) {
      this.#cache.set(this.#storeName, store)
    }
    return store
  }

  /** True when requests of this context must not touch the session. */
  skips(ctx: HttpContext): boolean {
    return this.config.skip ? this.config.skip(ctx) : false
  }

  /** The `Session` of a request (not initiated yet). */
  create(ctx: HttpContext): Session {
    return new Session(
      ctx,
      this.config,
      this.#storeName,
      this.store(ctx),
      this.cookies,
      this.#emitter
    )
  }

  /**
   * Read a session's values by id, outside HTTP; null when it does not exist
   * (or the id is not shaped like one: the store is not asked).
   */
  async read(sessionId: string): Promise<SessionData | null> {
    if (!isValidSessionId(sessionId)) {
      return null
    }
    const data = await this.store().read(sessionId)
    return data ? withoutMetadata(data).data : null
  }

  /** End a session by id; an invalid id throws E_SESSION_INVALID_ID. */
  async destroy(sessionId: string): Promise<void> {
    assertSessionId(sessionId, 'destroy')
    await this.store().destroy(sessionId)
  }

  /** True when the store can list and end a user's sessions. */
  supportsTagging(): boolean {
    const store = this.#storeOutsideHttp() as Partial<SessionStoreWithTaggingContract> | null
    return typeof store?.tag === 'function' && typeof store.tagged === 'function'
  }

  /** False for stores that only live in a request (cookie): they cannot be used from code. */
  worksOutsideHttp(): boolean {
    return this.#storeOutsideHttp() !== null
  }

  /** The store outside HTTP, or null for stores that only live in a request (cookie). */
  #storeOutsideHttp(): (SessionStoreContract & SessionStoreCapabilities) | null {
    try {
      return this.store()
    } catch (error) {
      if ((error as { code?: string }).code === 'E_SESSION_STORE_NEEDS_REQUEST') {
        return null
      }
      throw error
    }
  }

  #taggingStore(): SessionStoreWithTaggingContract {
    if (!this.supportsTagging()) {
      throw new E_SESSION_TAGGING_NOT_SUPPORTED([this.#storeName])
    }
    return this.store() as SessionStoreWithTaggingContract
  }

  /** Link a session to a user, outside HTTP; an invalid id throws E_SESSION_INVALID_ID. */
  async tag(sessionId: string, userId: string | number): Promise<void> {
    assertSessionId(sessionId, 'tag')
    await this.#taggingStore().tag(sessionId, String(userId))
  }

  /**
   * The live sessions of a user with their metadata (created at, last seen at,
   * IP address, user agent), most recently seen first.
   */
  async tagged(userId: string | number): Promise<TaggedSession[]> {
    const sessions = await this.#taggingStore().tagged(String(userId))
    return sessions
      .map((session) => {
        const { data, metadata } = withoutMetadata(session.data)
        return { id: session.id, data, metadata }
      })
      .sort((a, b) => (b.metadata?.lastSeenAt ?? 0) - (a.metadata?.lastSeenAt ?? 0))
  }

  /**
   * End every session of a user ("sign me out everywhere"), except the ids in
   * `except` (usually the current session). Returns how many were ended. An
   * invalid id in `except` (a cookie value instead of the id) throws
   * E_SESSION_INVALID_ID before any session is ended.
   */
  async destroyTagged(
    userId: string | number,
    options: { except?: string | string[] } = {}
  ): Promise<number> {
    const keep = new Set([options.except ?? []].flat())
    for (const sessionId of keep) {
      assertSessionId(sessionId, 'destroyTagged')
    }
    const sessions = await this.#taggingStore().tagged(String(userId))
    let ended = 0
    for (const session of sessions) {
      if (!keep.has(session.id)) {
        await this.store().destroy(session.id)
        ended++
      }
    }
    return ended
  }

  /**
   * Let every store this manager shares release what it opened (app shutdown).
   * A store that fails to close is logged and skipped: shutdown goes on.
   */
  async close(): Promise<void> {
    for (const [name, store] of this.#cache) {
      try {
        await (store as SessionStoreCapabilities).close?.()
      } catch (error) {
        debug('closing the "%s" session store failed: %s', name, (error as Error).message)
      }
    }
  }

  /** Delete expired sessions where the store can (file, database, dynamodb, memory). */
  async prune(): Promise<number | null> {
    const store = this.#storeOutsideHttp()
    return typeof store?.prune === 'function' ? await store.prune() : null
  }
}

/**
 * Split the metadata out of stored data.
 */
function withoutMetadata(stored: SessionData): { data: SessionData; metadata?: SessionMetadata } {
  const { [METADATA_KEY]: metadata, ...data } = stored
  return { data, metadata: metadata as SessionMetadata | undefined }
}
