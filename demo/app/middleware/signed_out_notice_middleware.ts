import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { takeSignedOut } from '../signed_out_devices.js'

/**
 * Tell a device that was signed out from another one why its session is gone:
 * the browser still sends the ended session's id cookie, the store no longer
 * knows it, so the session is fresh and the id is in the signed-out list.
 */
export default class SignedOutNoticeMiddleware {
  handle({ session, request, response }: HttpContext, next: NextFn) {
    const ended = session.fresh
      ? takeSignedOut(request.cookie(session.config.cookieName))
      : undefined
    if (!ended) {
      return next()
    }
    const at = new Date(ended.at).toISOString().slice(11, 16)
    session.flash('notification', {
      type: 'error',
      message: `You were signed out from another device (${ended.by}, at ${at} UTC).`,
    })
    if (request.method() !== 'GET') {
      return next()
    }
    session.setIntendedUrl(request.url(true))
    return response.redirect('/sign-in')
  }
}
