import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { webGuard } from '../auth.js'

/**
 * Share the signed-in user (checked silently, as the starter kits do) and the
 * session store's name with every template.
 */
export default class ShareMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const guard = webGuard(ctx)
    await guard.check()
    ctx.view.share({ user: guard.user, storeName: ctx.session.storeName })
    return next()
  }
}
