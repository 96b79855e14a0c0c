import type { HttpContext } from '@adonisjs/core/http'
import type { EmitterService } from '@adonisjs/core/types'
import type { SessionAuthConfig } from './types.js'

/**
 * What the session guard events of @adonisjs/auth (9 and 10) carry that
 * tagging needs.
 */
interface SessionGuardEvent {
  ctx: HttpContext
  guardName: string
}

/**
 * The emitter, for events of a package this one does not depend on.
 */
interface UntypedEmitter {
  on(event: string, listener: (event: SessionGuardEvent) => void): unknown
}

/**
 * The session of an event, when it is one this request stores: not skipped,
 * not read-only, and the guard is followed.
 */
function sessionOf({ ctx, guardName }: SessionGuardEvent, config: SessionAuthConfig) {
  const session = ctx.session
  const followed = !config.guards || config.guards.includes(guardName)
  return followed && session?.initiated && !session.readonly ? session : undefined
}

/**
 * Tag the sessions that @adonisjs/auth logs in with their user, and unlink
 * them on logout (`auth.tagSessions`). The user id is the one the session
 * guard keeps in the session (`auth_<guard>`). The guard emits without
 * awaiting, so the listeners only mark the session; the commit links it.
 */
export function tagAuthSessions(emitter: EmitterService, config: SessionAuthConfig): void {
  const events = emitter as unknown as UntypedEmitter
  const tag = (event: SessionGuardEvent, always: boolean) => {
    const session = sessionOf(event, config)
    const userId = session?.get(`auth_${event.guardName}`)
    if (userId === undefined || userId === null) {
      return
    }
    if (always || session!.metadata?.userId !== String(userId)) {
      session!.tagOnCommit(userId)
    }
  }
  events.on('session_auth:login_succeeded', (event) => tag(event, true))
  events.on('session_auth:authentication_succeeded', (event) => tag(event, false))
  events.on('session_auth:logged_out', (event) => {
    const session = sessionOf(event, config)
    if (session?.metadata?.userId !== undefined) {
      session.tagOnCommit(null)
    }
  })
}
