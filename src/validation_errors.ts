import { ExceptionHandler, type HttpContext } from '@adonisjs/core/http'
import { validationErrorsAsHtml } from './framework.js'

/**
 * The core's HTML rendering of a validation error, for requests without a
 * writable session: one "field - message" line per error.
 */
function renderCoreHtml(error: any, ctx: HttpContext) {
  ctx.response
    .status(error.status)
    .type('html')
    .send(validationErrorsAsHtml(error.messages ?? []))
}

/**
 * Flash the errors and input of a failed form, then redirect back.
 */
async function renderValidationErrorAsHTML(
  this: ExceptionHandler,
  error: any,
  ctx: HttpContext
): Promise<void> {
  const session = ctx.session
  if (!session?.initiated || session.readonly) {
    return renderCoreHtml(error, ctx)
  }
  session.flashValidationErrors(error, !ctx.request.header('x-inertia'))
  ctx.response.redirect('back', true)
}

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
  if (ExceptionHandler.prototype.renderValidationErrorAsHTML !== renderValidationErrorAsHTML) {
    ExceptionHandler.macro('renderValidationErrorAsHTML', renderValidationErrorAsHTML)
  }
}
