import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { currentUser } from '../users.js'

/**
 * Let signed-in users through; send the others to the sign-in form and come
 * back here after they signed in (the session's intended URL).
 */
export default class AuthMiddleware {
  handle({ session, request, response }: HttpContext, next: NextFn) {
    if (currentUser(session)) {
      return next()
    }
    session.setIntendedUrl(request.url(true))
    session.flash('notification', { type: 'info', message: 'Sign in to see your devices.' })
    return response.redirect('/sign-in')
  }
}
