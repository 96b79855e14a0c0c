import { Emitter } from '@adonisjs/core/events'
import { AppFactory } from '@adonisjs/core/factories/app'
import type { ApplicationService, EmitterService } from '@adonisjs/core/types'
import { defineConfig, type SessionConfigInput } from '../src/define_config.js'
import { SessionManager } from '../src/session_manager.js'

/**
 * The app key factories sign cookies with unless given one (tests only).
 */
export const FACTORY_APP_KEY = 'adonis-satchel-factory-app-key-0000'

/**
 * What the session factories accept: the `defineConfig` input (memory store
 * by default), and optionally the app (booted), emitter and app key to use.
 */
export interface SessionFactoryOptions {
  config?: SessionConfigInput<Record<string, any>>
  app?: ApplicationService
  emitter?: EmitterService
  appKey?: string
}

/**
 * Builds a SessionManager without booting an app: resolves the config the way
 * the provider does, for unit tests of code that uses sessions.
 *
 * @example
 * const manager = await new SessionManagerFactory().merge({ config: { store: 'memory', stores: {} } }).create()
 */
export class SessionManagerFactory {
  #options: SessionFactoryOptions = {}

  /** A bare booted app (no providers, empty config) to resolve the config against. */
  async #createApp(): Promise<ApplicationService> {
    const app = new AppFactory().create(new URL('./', import.meta.url)) as ApplicationService
    app.useConfig({})
    await app.init()
    await app.boot()
    return app
  }

  /** Merge options into the ones given before. */
  merge(options: SessionFactoryOptions): this {
    Object.assign(this.#options, options)
    return this
  }

  /** A new manager with the merged options. */
  async create(): Promise<SessionManager> {
    const app = this.#options.app ?? (await this.#createApp())
    const config = await defineConfig(
      this.#options.config ?? { store: 'memory', stores: {} }
    ).resolver(app)
    const emitter = this.#options.emitter ?? (new Emitter(app) as EmitterService)
    return new SessionManager(config, emitter, this.#options.appKey ?? FACTORY_APP_KEY)
  }
}
