import type { HttpContext } from '@adonisjs/core/http'
import { signInValidator } from '../validators/sign_in.js'
import { currentUser, verifyCredentials } from '../users.js'

/**
 * Signing in and out.
 */
export default class SignInController {
  /** The sign-in form. */
  show({ session, view, response }: HttpContext) {
    if (currentUser(session)) {
      return response.redirect('/')
    }
    return view.render('pages/sign_in')
  }

  /**
   * Check the form and the credentials. On success: a new session id (against
   * fixation), the user in the session, the session tagged with the user so it
   * shows on the devices page, and a flash notification.
   */
  async store({ request, session, response }: HttpContext) {
    const { email, password } = await request.validateUsing(signInValidator)
    const user = verifyCredentials(email, password)
    if (!user) {
      session.flashAll()
      session.flashErrors({ E_INVALID_CREDENTIALS: 'The email or the password is wrong.' })
      return response.redirect().back()
    }
    session.regenerate()
    session.put('userId', user.id)
    if (session.supportsTagging()) {
      await session.tag(user.id)
    }
    session.flash('notification', { type: 'success', message: `Welcome back, ${user.name}!` })
    return response.redirect(session.pullIntendedUrl() ?? '/')
  }

  /** Sign out: end the session and start a new one that carries the notification. */
  destroy({ session, response }: HttpContext) {
    session.invalidate()
    session.flash('notification', { type: 'info', message: 'You signed out.' })
    return response.redirect('/')
  }
}
