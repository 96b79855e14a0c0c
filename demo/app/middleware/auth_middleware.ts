import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { webGuard } from '../auth.js'

/**
 * Let signed-in users through (by their session or their remember-me
 * cookie); send the others to the sign-in form and come back here after they
 * signed in (the session's intended URL).
 */
export default class AuthMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    if (await webGuard(ctx).check()) {
      return next()
    }
    ctx.session.setIntendedUrl(ctx.request.url(true))
    ctx.session.flash('notification', { type: 'info', message: 'Sign in to see your devices.' })
    return ctx.response.redirect('/sign-in')
  }
}
