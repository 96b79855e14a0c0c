import type { SessionManager } from './session_manager.js'
import type { SessionData, TaggedSession } from './types.js'

/**
 * Manage sessions without an HTTP context, with the API of @adonisjs/session
 * 7.x's `SessionCollection`, so apps written for it keep working. It works on
 * the default store of the SessionManager; use the manager itself for more
 * (`destroyTagged`, `prune`, `use(storeName)`).
 *
 * @example
 * const collection = await app.container.make(SessionCollection)
 * const sessions = await collection.tagged(String(user.id))
 * await collection.destroy(sessions[0].id)
 */
export class SessionCollection {
  #manager: SessionManager

  constructor(manager: SessionManager) {
    this.#manager = manager
  }

  /** True when the store can link sessions to users (every store but cookie). */
  supportsTagging(): boolean {
    return this.#manager.supportsTagging()
  }

  /** The values of a session, or null when it does not exist or has expired. */
  get(sessionId: string): Promise<SessionData | null> {
    return this.#manager.read(sessionId)
  }

  /** End a session by id; an invalid id throws E_SESSION_INVALID_ID. */
  destroy(sessionId: string): Promise<void> {
    return this.#manager.destroy(sessionId)
  }

  /**
   * Link a session to a user. Throws E_SESSION_TAGGING_NOT_SUPPORTED on the
   * cookie store, E_SESSION_INVALID_ID for an invalid id.
   */
  tag(sessionId: string, userId: string | number): Promise<void> {
    return this.#manager.tag(sessionId, userId)
  }

  /**
   * The live sessions of a user, most recently seen first. Throws
   * E_SESSION_TAGGING_NOT_SUPPORTED on the cookie store.
   */
  tagged(userId: string | number): Promise<TaggedSession[]> {
    return this.#manager.tagged(userId)
  }
}
