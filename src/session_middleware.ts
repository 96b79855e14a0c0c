import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import debug from './debug.js'
import type { Session, SessionEvents } from './session.js'
import type { SessionManager } from './session_manager.js'

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
 * session cookie is in the response before its headers go out. Changes made
 * after that commit (an exception's `handle()` that AdonisJS 7 runs after the
 * middleware returned, an outer middleware) are committed just before the
 * response is written.
 * On a skipped route `ctx.session` is an empty session that lives only for
 * the request.
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
      session.skip()
      return next()
    }
    try {
      await session.initiate(false)
    } catch (error) {
      throw logFailure('loading', session, error)
    }
    session.whenChangedAfterCommit(commitBeforeResponse)
    try {
      return await next()
    } finally {
      try {
        await session.commit()
      } catch (error) {
        // eslint-disable-next-line no-unsafe-finally
        throw logFailure('committing', session, error)
      }
    }
  }
}

/**
 * Commit the session's late writes when the server writes the response, before
 * its headers go out. The server does not wait for `finish()`, so the response
 * is written once the commit settled; a failed commit is logged and the
 * response still goes out as the app made it.
 */
function commitBeforeResponse(ctx: HttpContext, session: Session) {
  const response = ctx.response
  const finish = response.finish
  response.finish = function finishAfterCommit() {
    response.finish = finish
    session.commit().then(
      () => finish.call(response),
      (error) => {
        logFailure('committing late writes to', session, error)
        finish.call(response)
      }
    )
  }
}

/**
 * Log why loading or committing a session failed (store unavailable, cookie
 * too large) by error codes only: messages can carry paths or keys with the id.
 */
function logFailure(phase: string, session: Session, error: unknown): unknown {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } }
  const codes = [code, cause?.code].filter(Boolean).join(' caused by ')
  debug('%s the session failed on the "%s" store: %s', phase, session.storeName, codes)
  return error
}
