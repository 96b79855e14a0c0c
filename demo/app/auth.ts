import type { HttpContext } from '@adonisjs/core/http'
import type { SessionGuard, SessionLucidUserProvider } from '@adonisjs/auth/session'
import type User from './models/user.js'

/** The demo's session guard, as config/auth.ts defines it. */
export type WebGuard = SessionGuard<true, SessionLucidUserProvider<typeof User>>

/**
 * The "web" guard of a request. An app types its guards once, with
 * `InferAuthenticators` of config/auth.ts; the demo shares its type check with
 * the test apps of this repository, which declare theirs, so it names the
 * type of its guard here instead.
 */
export function webGuard(ctx: HttpContext): WebGuard {
  return ctx.auth.use('web') as unknown as WebGuard
}
