import app from '@adonisjs/core/services/app'
import { ExceptionHandler } from '@adonisjs/core/http'

/**
 * The app's exception handler. adonis-satchel makes the core handler flash
 * validation errors and old input and redirect back, so nothing is needed here.
 */
export default class HttpExceptionHandler extends ExceptionHandler {
  protected debug = !app.inProduction
}
