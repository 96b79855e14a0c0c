import type { OutgoingHttpHeader } from 'node:http'
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
      const cookiesBeforeCommit = ctx.response.getHeader('set-cookie')
      try {
        await session.commit()
      } catch (error) {
        clearForError(ctx, cookiesBeforeCommit, error)
        // eslint-disable-next-line no-unsafe-finally
        throw logFailure('committing', session, error)
      }
    }
  }
}

/** Headers that describe the response the handler made, not the error that replaces it. */
const HANDLER_RESPONSE_HEADERS = [
  'location',
  'content-type',
  'content-length',
  'content-disposition',
  'etag',
  'last-modified',
]

/**
 * When the commit failed, the response the handler made (a redirect, a page,
 * a download) must not go out with the error: drop its body, status and the
 * headers describing it, and the Set-Cookie lines the failed commit added, so
 * the exception handler renders the error with its own content negotiation
 * (its status pages included). Headers set before, such as security headers
 * and the handler's own cookies, stay.
 */
function clearForError(
  ctx: HttpContext,
  cookiesBeforeCommit: OutgoingHttpHeader | undefined,
  error: unknown
) {
  const response = ctx.response
  if (response.headersSent) {
    return
  }
  for (const name of HANDLER_RESPONSE_HEADERS) {
    response.removeHeader(name)
  }
  response.removeHeader('set-cookie')
  if (cookiesBeforeCommit !== undefined) {
    response.header('set-cookie', cookiesBeforeCommit)
  }
  response.lazyBody = {}
  const status = (error as { status?: unknown } | null)?.status
  response.status(typeof status === 'number' && status >= 400 ? status : 500)
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
