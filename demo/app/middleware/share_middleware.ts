import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { currentUser } from '../users.js'

/**
 * Share the signed-in user and the session store's name with every template.
 */
export default class ShareMiddleware {
  handle(ctx: HttpContext, next: NextFn) {
    ctx.view.share({ user: currentUser(ctx.session), storeName: ctx.session.storeName })
    return next()
  }
}
