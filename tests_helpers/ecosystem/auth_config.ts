import type { HttpContext } from '@adonisjs/core/http'
import { defineConfig } from '@adonisjs/auth'
import {
  sessionGuard,
  sessionUserProvider,
  type SessionGuard,
  type SessionLucidUserProvider,
} from '@adonisjs/auth/session'
import type { InferAuthEvents } from '@adonisjs/auth/types'
import type User from './user.js'

/**
 * `config/auth.ts` of the integration app: the session guard with
 * remember-me tokens, users from the Lucid model. Typed loosely: the
 * guards are declared below, as `InferAuthenticators` would infer them.
 */
export const AUTH_CONFIG: unknown = defineConfig({
  default: 'web',
  guards: {
    web: sessionGuard({
      useRememberMeTokens: true,
      rememberMeTokensAge: '30 days',
      provider: sessionUserProvider({ model: () => import('./user.js') }),
    }),
  },
})

/**
 * The guards of the integration app.
 */
type EcosystemAuthenticators = {
  web: (ctx: HttpContext) => SessionGuard<true, SessionLucidUserProvider<typeof User>>
}

declare module '@adonisjs/auth/types' {
  export interface Authenticators extends EcosystemAuthenticators {}
}

declare module '@adonisjs/core/types' {
  interface EventsList extends InferAuthEvents<EcosystemAuthenticators> {}
}
