import router from '@adonisjs/core/services/router'
import server from '@adonisjs/core/services/server'

/**
 * The exception handler: it turns validation errors into flashed errors and
 * old input, then redirects back (adonis-satchel hooks into it).
 */
server.errorHandler(() => import('../app/exceptions/handler.js'))

/**
 * Middleware of every route. In your app the session middleware is
 * `() => import('adonis-satchel/session_middleware')`.
 */
router.use([
  () => import('@adonisjs/core/bodyparser_middleware'),
  () => import('../../src/session_middleware.js'),
  () => import('../app/middleware/signed_out_notice_middleware.js'),
  () => import('@adonisjs/auth/initialize_auth_middleware'),
  () => import('../app/middleware/share_middleware.js'),
])

/**
 * Middleware routes opt into.
 */
export const middleware = router.named({
  auth: () => import('../app/middleware/auth_middleware.js'),
})
