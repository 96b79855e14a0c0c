import SessionMiddleware from '../src/session_middleware.js'
import { SessionManagerFactory, type SessionFactoryOptions } from './session_manager_factory.js'

/**
 * Builds the session middleware without booting an app (as
 * @adonisjs/session's factory of the same name).
 *
 * @example
 * const middleware = await new SessionMiddlewareFactory().create()
 * await middleware.handle(ctx, () => ctx.session.put('visits', 1))
 */
export class SessionMiddlewareFactory {
  #managerFactory = new SessionManagerFactory()

  /** Merge options: `config` (the defineConfig input), `emitter`, `app`, `appKey`. */
  merge(options: SessionFactoryOptions): this {
    this.#managerFactory.merge(options)
    return this
  }

  /** A middleware over a new SessionManager. */
  async create(): Promise<SessionMiddleware> {
    return new SessionMiddleware(await this.#managerFactory.create())
  }
}
