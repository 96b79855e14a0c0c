import type { HttpContext } from '@adonisjs/core/http'
import sessionManager from '../../../services/main.js'
import { currentUser } from '../users.js'
import { rememberSignedOut } from '../signed_out_devices.js'
import { describeAgent } from '../user_agents.js'

/**
 * Dates as the demo shows them.
 */
function formatTime(epochMs: number | undefined): string {
  return epochMs ? new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '-'
}

/**
 * "Your active sessions": every session of the signed-in user, on any device.
 */
export default class DevicesController {
  /** List the user's sessions, or say why the store cannot. */
  async index({ session, view }: HttpContext) {
    if (!session.supportsTagging()) {
      return view.render('pages/devices', { supported: false })
    }
    const user = currentUser(session)!
    const sessions = await sessionManager.tagged(user.id)
    const devices = sessions.map((tagged) => ({
      current: tagged.id === session.sessionId,
      browser: describeAgent(tagged.metadata?.userAgent),
      ipAddress: tagged.metadata?.ipAddress ?? 'unknown',
      createdAt: formatTime(tagged.metadata?.createdAt),
      lastSeenAt: formatTime(tagged.metadata?.lastSeenAt),
    }))
    return view.render('pages/devices', { supported: true, devices })
  }

  /**
   * End every other session of the user; keep this one. The ended ids are
   * remembered so each of those devices is told why on its next request.
   */
  async signOutOthers({ session, request, response }: HttpContext) {
    const user = currentUser(session)!
    const sessions = await sessionManager.tagged(user.id)
    const others = sessions.filter((tagged) => tagged.id !== session.sessionId)
    rememberSignedOut(
      others.map((tagged) => tagged.id),
      describeAgent(request.header('user-agent'))
    )
    const ended = await sessionManager.destroyTagged(user.id, { except: session.sessionId })
    session.flash('notification', {
      type: 'success',
      message: `Signed out ${ended} other ${ended === 1 ? 'device' : 'devices'}.`,
    })
    return response.redirect('/devices')
  }
}
