import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

/**
 * The starter kits' silent auth middleware in `router.use`: every request
 * checks who is logged in, so every route reads `ctx.session`.
 */
export default class SilentAuthMiddleware {
  /** Check the session guard, never failing the request. */
  async handle(ctx: HttpContext, next: NextFn) {
    await ctx.auth.check()
    return next()
  }
}
