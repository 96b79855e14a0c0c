import { configProvider } from '@adonisjs/core'
import type { ApplicationService } from '@adonisjs/core/types'
import { SessionManager } from '../src/session_manager.js'
import { SessionCollection } from '../src/session_collection.js'
import SessionMiddleware from '../src/session_middleware.js'
import { E_INVALID_SESSION_CONFIG } from '../src/errors.js'
import { readAppSecrets } from '../src/framework.js'
import type { ResolvedSessionConfig } from '../src/types.js'
/**
 * Keeps the `Redirect` augmentation (withIntendedUrl, toIntended) in the
 * provider's types, which every app loads through adonisrc.ts.
 */
import '../src/redirect_macros.js'

declare module '@adonisjs/core/types' {
  interface ContainerBindings {
    'session.manager': SessionManager
  }
}

/**
 * Registers the SessionManager and the session middleware; at boot, checks the
 * config (a mistake fails the boot, not the first request), adds the Edge tags
 * and the validation-error hook of the exception handler.
 */
export default class SessionProvider {
  #manager: SessionManager | undefined

  constructor(protected app: ApplicationService) {}

  /** Bind the manager and the middleware. */
  register() {
    this.app.container.singleton(SessionManager, async (resolver) => {
      const config = await configProvider.resolve<ResolvedSessionConfig>(
        this.app,
        this.app.config.get('session', {})
      )
      if (!config) {
        throw new E_INVALID_SESSION_CONFIG([
          'the file must export the result of "defineConfig()" from "adonis-satchel"',
        ])
      }
      const secrets = await readAppSecrets(this.app)
      return new SessionManager(config, await resolver.make('emitter'), secrets)
    })
    this.app.container.alias('session.manager', SessionManager)
    this.app.container.singleton(SessionCollection, async (resolver) => {
      return new SessionCollection(await resolver.make('session.manager'))
    })
    this.app.container.singleton(SessionMiddleware, async (resolver) => {
      return new SessionMiddleware(await resolver.make('session.manager'))
    })
  }

  /**
   * Resolve the config now, follow @adonisjs/auth when asked, register the
   * Edge plugin, the validation hook and the intended-URL redirect macros.
   */
  async boot() {
    this.#manager = await this.app.container.make('session.manager')
    await this.#followAuth(this.#manager)
    await this.#registerEdgePlugin()
    const { registerValidationErrorHook } = await import('../src/validation_errors.js')
    registerValidationErrorHook()
    const { registerRedirectMacros } = await import('../src/redirect_macros.js')
    registerRedirectMacros()
  }

  /** Close what the stores opened themselves (e.g. a DynamoDB client made from clientConfig). */
  async shutdown() {
    await this.#manager?.close()
  }

  /**
   * With `auth.tagSessions`, tag the sessions @adonisjs/auth logs in. The store
   * must be able to tag: checked now, as a listener of auth cannot fail a request.
   */
  async #followAuth(manager: SessionManager) {
    const auth = manager.config.auth
    if (!auth?.tagSessions) {
      return
    }
    if (!manager.config.cookieRevocation && !manager.supportsTagging()) {
      throw new E_INVALID_SESSION_CONFIG([
        `"auth.tagSessions" needs a store that can tag sessions, and the "${manager.storeName}" store cannot. Use the memory, file, redis, database or dynamodb store, or "cookieRevocation" with the cookie store`,
      ])
    }
    const { tagAuthSessions } = await import('../src/auth_tagging.js')
    tagAuthSessions(await this.app.container.make('emitter'), auth)
  }

  async #registerEdgePlugin() {
    if (!this.app.usingEdgeJS) {
      return
    }
    const { default: edge } = await import('edge.js')
    const { edgePluginSession } = await import('../src/plugins/edge.js')
    edge.use(edgePluginSession)
  }
}
