import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import * as inertiaMiddleware from '@adonisjs/inertia/inertia_middleware'

/**
 * The base class of @adonisjs/inertia 5 (AdonisJS 7), which an app's own
 * Inertia middleware extends; seen loosely, as the lane of AdonisJS 6 has
 * Inertia 3's finished middleware under the same name.
 */
const BaseInertiaMiddleware = inertiaMiddleware.default as unknown as new () => {
  init(ctx: HttpContext): Promise<void>
  dispose(ctx: HttpContext): void
  getValidationErrors(ctx: HttpContext): Record<string, unknown>
}

/**
 * `app/middleware/inertia_middleware.ts` of an AdonisJS 7 starter kit: it
 * shares the validation errors the session flashed as `props.errors`.
 */
export default class InertiaMiddleware extends BaseInertiaMiddleware {
  /** The props of every page. */
  share(ctx: HttpContext) {
    const inertia = (ctx as unknown as { inertia: { always(value: unknown): unknown } }).inertia
    return { errors: inertia.always(this.getValidationErrors(ctx)) }
  }

  /** Set Inertia up for the request, then finish its response. */
  async handle(ctx: HttpContext, next: NextFn) {
    await this.init(ctx)
    const output = await next()
    this.dispose(ctx)
    return output
  }
}
