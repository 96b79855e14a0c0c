import type { HttpContext } from '@adonisjs/core/http'
import { RememberMeToken } from '@adonisjs/auth/session'
import sessionManager from '../../../services/main.js'
import User from '../models/user.js'
import { webGuard } from '../auth.js'
import { rememberSignedOut } from '../signed_out_devices.js'
import { describeAgent } from '../user_agents.js'

/**
 * Dates as the demo shows them.
 */
function formatTime(time: number | Date | undefined): string {
  return time ? new Date(time).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '-'
}

/**
 * The identifier of this device's remember-me token, from its remember-me
 * cookie, or undefined when it signed in without "remember me".
 */
function currentRememberMeToken(ctx: HttpContext): string | undefined {
  const cookie = ctx.request.encryptedCookie(webGuard(ctx).rememberMeKeyName)
  return cookie ? RememberMeToken.decode(cookie)?.identifier : undefined
}

/**
 * "Your devices": every session of the signed-in user on any device, and the
 * remember-me tokens that can sign a device in again.
 */
export default class DevicesController {
  /** List the user's sessions and remember-me tokens, or say why the store cannot. */
  async index(ctx: HttpContext) {
    const { session, view } = ctx
    if (!session.supportsTagging()) {
      return view.render('pages/devices', { supported: false })
    }
    const guard = webGuard(ctx)
    if (guard.viaRemember) {
      /**
       * Auth signed this device in again from its remember-me cookie during
       * this request: a new session, tagged when it is saved at the end of the
       * request, and a new remember-me token, in this response's cookie. Load
       * the page once more to list both as saved.
       */
      return ctx.response.redirect(ctx.request.url(true))
    }
    const user = guard.getUserOrFail()
    const sessions = await sessionManager.tagged(user.id)
    const devices = sessions.map((tagged) => ({
      current: tagged.id === session.sessionId,
      sessionId: `${tagged.id.slice(0, 8)}…`,
      browser: describeAgent(tagged.metadata?.userAgent),
      ipAddress: tagged.metadata?.ipAddress ?? 'unknown',
      createdAt: formatTime(tagged.metadata?.createdAt),
      lastSeenAt: formatTime(tagged.metadata?.lastSeenAt),
    }))
    const currentToken = currentRememberMeToken(ctx)
    const tokens = await User.rememberMeTokens.all(user)
    const rememberMeTokens = tokens.map((token) => ({
      current: String(token.identifier) === currentToken,
      createdAt: formatTime(token.createdAt),
      expiresAt: formatTime(token.expiresAt),
    }))
    return view.render('pages/devices', { supported: true, devices, rememberMeTokens })
  }

  /**
   * Sign out every other device of the user; keep this one. Ending their
   * sessions is not enough: a device that signed in with "remember me" would
   * be logged in again from its remember-me cookie, into a new session. So
   * the other remember-me tokens are revoked too, this device's own kept. The
   * ended ids are remembered so each of those devices is told why.
   */
  async signOutOthers(ctx: HttpContext) {
    const { session, request, response } = ctx
    const user = webGuard(ctx).getUserOrFail()
    const sessions = await sessionManager.tagged(user.id)
    rememberSignedOut(
      sessions.filter((tagged) => tagged.id !== session.sessionId).map((tagged) => tagged.id),
      describeAgent(request.header('user-agent'))
    )
    const ended = await sessionManager.destroyTagged(user.id, { except: session.sessionId })

    const currentToken = currentRememberMeToken(ctx)
    let revoked = 0
    for (const token of await User.rememberMeTokens.all(user)) {
      if (String(token.identifier) !== currentToken) {
        revoked += await User.rememberMeTokens.delete(user, token.identifier)
      }
    }

    const devices = `${ended} other ${ended === 1 ? 'device' : 'devices'}`
    const tokens = `${revoked} remember-me ${revoked === 1 ? 'token' : 'tokens'}`
    session.flash('notification', {
      type: 'success',
      message: revoked ? `Signed out ${devices} and revoked ${tokens}.` : `Signed out ${devices}.`,
    })
    return response.redirect('/devices')
  }
}
