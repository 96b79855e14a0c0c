import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import type { Session } from './session.js'
import type { SessionManager } from './session_manager.js'
import type { SessionEvents } from './types.js'

declare module '@adonisjs/core/http' {
  interface HttpContext {
    session: Session
  }
}

declare module '@adonisjs/core/types' {
  interface EventsList extends SessionEvents {}
}

/**
 * Router middleware that gives every request `ctx.session`: loads it before
 * the handler and commits it after, also when the handler threw, so the
 * session cookie is in the response before its headers go out.
 */
export default class SessionMiddleware {
  #manager: SessionManager

  constructor(manager: SessionManager) {
    this.#manager = manager
  }

  /** Initiate, run the handler, commit. */
  async handle(ctx: HttpContext, next: NextFn) {
    const manager = this.#manager
    if (!manager.config.enabled) {
      return next()
    }
    const session = manager.create(ctx)
    ctx.session = session
    if (manager.skips(ctx)) {
      return next()
    }
    await session.initiate(false)
    try {
      return await next()
    } finally {
      await session.commit()
    }
  }
}
