import type { HttpContext } from '@adonisjs/core/http'
import { errors as authErrors } from '@adonisjs/auth'
import { signInValidator } from '../validators/sign_in.js'
import { webGuard } from '../auth.js'
import User from '../models/user.js'

/**
 * Signing in and out, with @adonisjs/auth's session guard.
 */
export default class SignInController {
  /** The sign-in form. */
  async show(ctx: HttpContext) {
    if (await webGuard(ctx).check()) {
      return ctx.response.redirect('/')
    }
    return ctx.view.render('pages/sign_in')
  }

  /**
   * Check the form and the credentials, then log in: auth gives the session a
   * new id (against fixation) and, with "remember me", a remember-me token;
   * adonis-satchel tags the session with the user (`auth.tagSessions`), so
   * it shows on the devices page.
   */
  async store(ctx: HttpContext) {
    const { request, session, response } = ctx
    const { email, password, remember } = await request.validateUsing(signInValidator)
    let user: User
    try {
      user = await User.verifyCredentials(email, password)
    } catch (error) {
      if (!(error instanceof authErrors.E_INVALID_CREDENTIALS)) {
        throw error
      }
      session.flashExcept(['password'])
      session.flashErrors({ E_INVALID_CREDENTIALS: 'The email or the password is wrong.' })
      return response.redirect().back()
    }
    await webGuard(ctx).login(user, remember === true)
    session.flash('notification', { type: 'success', message: `Welcome back, ${user.name}!` })
    return response.redirect(session.pullIntendedUrl() ?? '/')
  }

  /**
   * Sign out: auth forgets the user and revokes this device's remember-me
   * token, then the session ends on the server and a new one carries the
   * notification.
   */
  async destroy(ctx: HttpContext) {
    await webGuard(ctx).logout()
    ctx.session.invalidate()
    ctx.session.flash('notification', { type: 'info', message: 'You signed out.' })
    return ctx.response.redirect('/')
  }
}
