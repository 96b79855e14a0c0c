import type { HttpContext } from '@adonisjs/core/http'
import type { Session } from '../src/session.js'
import type { SessionManager } from '../src/session_manager.js'
import { SessionManagerFactory, type SessionFactoryOptions } from './session_manager_factory.js'

/**
 * Builds initiated sessions for HTTP contexts made with `HttpContextFactory`,
 * for unit tests of code that reads or writes `ctx.session`. The sessions of
 * one factory share one manager, so they share stores.
 *
 * @example
 * const ctx = new HttpContextFactory().create()
 * const session = await new SessionFactory().create(ctx)
 * session.put('cart', [1])
 * await session.commit()
 */
export class SessionFactory {
  #managerFactory = new SessionManagerFactory()
  #manager: Promise<SessionManager> | undefined

  /** Merge options: `config` (the defineConfig input), `emitter`, `app`, `appKey`. */
  merge(options: SessionFactoryOptions): this {
    this.#managerFactory.merge(options)
    this.#manager = undefined
    return this
  }

  /** The manager the sessions of this factory come from. */
  manager(): Promise<SessionManager> {
    this.#manager ??= this.#managerFactory.create()
    return this.#manager
  }

  /**
   * The session of a context, set as `ctx.session` and loaded from the
   * context's cookie (read-only with `{ readonly: true }`).
   */
  async create(ctx: HttpContext, options: { readonly?: boolean } = {}): Promise<Session> {
    const session = (await this.manager()).create(ctx)
    ctx.session = session
    await session.initiate(options.readonly ?? false)
    return session
  }
}
