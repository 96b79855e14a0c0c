import type { HttpContext, Router } from '@adonisjs/core/http'
import type { Session } from '../src/session.js'

/**
 * What a test sees of a session after its handler ran.
 */
export interface SessionState {
  sessionId: string
  fresh: boolean
  initiated: boolean
  readonly: boolean
  hasRegeneratedSession: boolean
  isEmpty: boolean
  hasBeenModified: boolean
  values: Record<string, any>
  flashMessages: Record<string, any>
}

/**
 * The public state of a session, as JSON.
 */
export function describeSession(session: Session): SessionState {
  return {
    sessionId: session.sessionId,
    fresh: session.fresh,
    initiated: session.initiated,
    readonly: session.readonly,
    hasRegeneratedSession: session.hasRegeneratedSession,
    isEmpty: session.isEmpty,
    hasBeenModified: session.hasBeenModified,
    values: session.all(),
    flashMessages: session.flashMessages.all(),
  }
}

/**
 * One call on `ctx.session`: a method name and its arguments.
 */
export type SessionCall = [method: string, ...args: any[]]

/**
 * Routes that drive `ctx.session` from a test:
 * - `POST /session/call` with `{ calls: [[method, ...args]] }` (also as a form,
 *   `calls` JSON-encoded) runs the calls in order and returns their results
 *   and the session state;
 * - `GET /session` returns the state only;
 * - `POST /session/throw` runs the calls, then throws.
 */
export function sessionRoutes(router: Router) {
  const run = async ({ session, request }: HttpContext) => {
    const raw = request.input('calls', [])
    const calls: SessionCall[] = typeof raw === 'string' ? JSON.parse(raw) : raw
    const results: unknown[] = []
    for (const [method, ...args] of calls) {
      const result = await (session as any)[method](...args)
      results.push(result === undefined ? null : result)
    }
    return results
  }
  router.post('/session/call', async (ctx) => ({
    results: await run(ctx),
    ...describeSession(ctx.session),
  }))
  router.get('/session', ({ session }) => describeSession(session))
  router.post('/session/throw', async (ctx) => {
    await run(ctx)
    throw new Error('the handler failed')
  })
}
