import { ExceptionHandler, type HttpContext } from '@adonisjs/core/http'

let registered = false

/**
 * Make the core exception handler flash validation errors and the old input,
 * then redirect back, for HTML requests with a session. JSON and JSON:API
 * requests keep the core 422 response (the core picks the renderer by the
 * Accept header), and so do requests without a writable session.
 *
 * It replaces `renderValidationErrorAsHTML` on the core `ExceptionHandler`,
 * the hook AdonisJS gives for this, so an app handler that extends the core
 * one keeps working unchanged (and can still override the method).
 * Requests with `X-Inertia` get the errors flashed but not the input.
 */
export function registerValidationErrorHook() {
  if (registered) {
    return
  }
  registered = true
  const renderAsHtml = ExceptionHandler.prototype.renderValidationErrorAsHTML
  ExceptionHandler.macro(
    'renderValidationErrorAsHTML',
    async function (this: ExceptionHandler, error: any, ctx: HttpContext) {
      const session = ctx.session
      if (!session?.initiated || session.readonly) {
        return renderAsHtml.call(this, error, ctx)
      }
      session.flashValidationErrors(error, !ctx.request.header('x-inertia'))
      ctx.response.redirect('back', true)
    }
  )
}
