import app from '@adonisjs/core/services/app'
import { ExceptionHandler, type HttpContext } from '@adonisjs/core/http'
import { errors } from '../../../index.js'

/**
 * The app's exception handler. adonis-satchel makes the core handler flash
 * validation errors and old input and redirect back, so nothing is needed for
 * forms. A cookie-store session over 4 KB gets a page that says what happened.
 */
export default class HttpExceptionHandler extends ExceptionHandler {
  protected debug = !app.inProduction

  /** Render E_SESSION_COOKIE_TOO_LARGE as the demo's own error page. */
  async handle(error: unknown, ctx: HttpContext) {
    if (error instanceof errors.E_SESSION_COOKIE_TOO_LARGE) {
      const html = await ctx.view.render('pages/cookie_too_large', {
        code: error.code,
        message: error.message,
      })
      return ctx.response.status(error.status).header('content-type', 'text/html').send(html)
    }
    return super.handle(error, ctx)
  }
}
