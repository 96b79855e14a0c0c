import type { ApplicationService } from '@adonisjs/core/types'
import { deepMerge } from './data_paths.js'
import { METADATA_KEY } from './payload.js'
import { E_INVALID_SESSION_TEST_SETUP } from './errors.js'
import type { KeyRing } from './key_ring.js'
import { SessionManager } from './session_manager.js'
import { assertSessionId, generateSessionId, isValidSessionId } from './session_cookies.js'
import type { SessionData, SessionStoreContract } from './types.js'

/**
 * What a `SessionClient` needs to write and read the signed session id cookie.
 */
export interface SessionIdCookie {
  /** Name of the id cookie (`cookieName` of `config/session.ts`). */
  cookieName: string
  /** The keys that sign the id cookie (the manager's `cookies.keyRing`). */
  keyRing: KeyRing
}

/**
 * The values and flash messages of one session, as a test reads them.
 */
export interface SessionContents {
  values: SessionData
  flashMessages: SessionData
}

/**
 * Reads and writes sessions by id outside HTTP, the way a test prepares a
 * request: seed values and flash messages, commit them, send the signed id
 * cookie, then load what the app stored. Both Japa plugins use it.
 *
 * @example
 * const client = SessionClient.fromManager(manager)
 * await client.merge({ userId: 1 }).flash({ notice: 'Hi' }).commit()
 * request.header('cookie', `${client.cookieName}=${client.signedSessionId()}`)
 */
export class SessionClient {
  #store: SessionStoreContract
  #cookie: SessionIdCookie
  #values: SessionData = {}
  #flashMessages: SessionData = {}

  /** The key of flash data inside the session (as @adonisjs/session). */
  flashKey = '__flash__'

  /** The session `commit`, `load` and `destroy` use when given no id. */
  sessionId: string = generateSessionId()

  constructor(store: SessionStoreContract, cookie: SessionIdCookie) {
    this.#store = store
    this.#cookie = cookie
  }

  /** A client for the store and the id cookie of a manager. */
  static fromManager(manager: SessionManager): SessionClient {
    return new SessionClient(manager.store(), {
      cookieName: manager.config.cookieName,
      keyRing: manager.cookies.keyRing,
    })
  }

  /** Name of the session id cookie. */
  get cookieName(): string {
    return this.#cookie.cookieName
  }

  /**
   * Queue values for the session, merged deeply (objects key by key, arrays
   * and other values replaced), as `ValuesStore.merge`.
   */
  merge(values: SessionData): this {
    deepMerge(this.#values, values)
    return this
  }

  /** Queue flash messages, merged deeply: the next request reads them as `flashMessages`. */
  flash(values: SessionData): this {
    deepMerge(this.#flashMessages, values)
    return this
  }

  /**
   * Write the queued values and flash messages on top of what the session
   * holds now, merged deeply (creating it, empty if nothing was queued), then
   * clear the queue.
   */
  async commit(): Promise<void> {
    assertSessionId(this.sessionId, 'commit')
    const data: SessionData = { ...(await this.#store.read(this.sessionId)) }
    deepMerge(data, this.#values)
    if (Object.keys(this.#flashMessages).length > 0) {
      deepMerge(data, { [this.flashKey]: this.#flashMessages })
    }
    await this.#store.write(this.sessionId, data)
    this.#values = {}
    this.#flashMessages = {}
  }

  /** The values and flash messages a session holds; empty when it does not exist. */
  async load(sessionId: string = this.sessionId): Promise<SessionContents> {
    const stored = isValidSessionId(sessionId) ? await this.#store.read(sessionId) : null
    const values: SessionData = { ...stored }
    const flashMessages = values[this.flashKey]
    delete values[this.flashKey]
    delete values[METADATA_KEY]
    return {
      values,
      flashMessages:
        flashMessages && typeof flashMessages === 'object' ? (flashMessages as SessionData) : {},
    }
  }

  /** True when the store holds the session. */
  async exists(sessionId: string = this.sessionId): Promise<boolean> {
    return isValidSessionId(sessionId) && (await this.#store.read(sessionId)) !== null
  }

  /** End a session; an invalid id throws E_SESSION_INVALID_ID. */
  async destroy(sessionId: string = this.sessionId): Promise<void> {
    assertSessionId(sessionId, 'destroy')
    await this.#store.destroy(sessionId)
  }

  /** The value of the id cookie for a session, signed as the app expects it. */
  signedSessionId(sessionId: string = this.sessionId): string {
    return this.#cookie.keyRing.sign(sessionId, this.#cookie.cookieName)
  }

  /**
   * The session id inside an id cookie value (URL-encoded or not), or null when
   * it is not signed by the app's keys.
   */
  readSessionId(cookieValue: string | undefined | null): string | null {
    if (!cookieValue) {
      return null
    }
    let value = cookieValue
    try {
      value = value.includes('%') ? decodeURIComponent(value) : value
    } catch {
      return null
    }
    const verified = this.#cookie.keyRing.unsign<string>(value, this.#cookie.cookieName)
    return verified && isValidSessionId(verified.value) ? verified.value : null
  }
}

/**
 * The app's SessionManager, switched to the store tests seed (memory unless
 * told otherwise). Fails when that store keeps its data in the browser.
 */
export async function sessionManagerForTests(
  app: ApplicationService,
  storeName: string = 'memory'
): Promise<SessionManager> {
  const manager = await app.container.make(SessionManager)
  if (!manager.use(storeName).worksOutsideHttp()) {
    throw new E_INVALID_SESSION_TEST_SETUP([
      `the "${storeName}" store keeps its data in the browser cookie, so a test cannot seed it. Leave the "store" option unset (memory) or name a server-side store`,
    ])
  }
  manager.swap(storeName)
  return manager
}
