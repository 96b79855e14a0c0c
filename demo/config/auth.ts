import { defineConfig } from '@adonisjs/auth'
import { sessionGuard, sessionUserProvider } from '@adonisjs/auth/session'
import type { ConfigProvider } from '@adonisjs/core/types'

/**
 * @adonisjs/auth: one session guard, "web", with remember-me tokens kept for
 * 30 days in the remember_me_tokens table, users from the Lucid model.
 * adonis-satchel tags every session this guard logs in (`auth.tagSessions`
 * in config/session.ts). Typed loosely: the demo names its guard's type in
 * app/auth.ts.
 */
const authConfig: ConfigProvider<unknown> = defineConfig({
  default: 'web',
  guards: {
    web: sessionGuard({
      useRememberMeTokens: true,
      rememberMeTokensAge: '30 days',
      provider: sessionUserProvider({ model: () => import('../app/models/user.js') }),
    }),
  },
})

export default authConfig
