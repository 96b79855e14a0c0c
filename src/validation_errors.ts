import { ExceptionHandler, type HttpContext } from '@adonisjs/core/http'

/**
 * Make the core exception handler flash validation errors and the old input,
 * then redirect back, for HTML requests with a session. JSON and JSON:API
 * requests keep the core 422 response. An app handler that extends the core
 * one keeps working unchanged.
 */
let registered = false

export function registerValidationErrorHook() {
  if (registered) {
    return
  }
  registered = true
  const original = ExceptionHandler.prototype.renderValidationErrorAsHTML
  ExceptionHandler.macro(
    'renderValidationErrorAsHTML',
    async function (this: ExceptionHandler, error: any, ctx: HttpContext) {
      if (!ctx.session?.initiated || ctx.session.readonly) {
        return original.call(this, error, ctx)
      }
      const withInput = !ctx.request.header('x-inertia')
      ctx.session.flashValidationErrors(error, withInput)
      ctx.response.redirect('back', true)
    }
  )
}
