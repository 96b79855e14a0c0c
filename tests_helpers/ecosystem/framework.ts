import { defineConfig as defineInertiaConfig } from '@adonisjs/inertia'
import { defineConfig as defineViteConfig } from '@adonisjs/vite'
import type { Server } from '@adonisjs/core/http'
import { adonisMajor } from '../framework.js'

/** Server middleware entries, as `server.use()` takes them. */
type ServerMiddleware = Parameters<Server['use']>[0]

/**
 * What differs between the AdonisJS majors in the integration app, and only
 * that: AdonisJS 6 (auth 9, shield 8, inertia 3 with vite 4) and AdonisJS 7
 * (auth 10, shield 9, inertia 5 with vite 6).
 */
export const FRAMEWORK = {
  /** The providers Inertia needs. */
  inertiaProviders: [
    () => import('@adonisjs/vite/vite_provider'),
    () => import('@adonisjs/inertia/inertia_provider'),
  ],

  /** The config files of Inertia and Vite (the same options on both majors). */
  inertiaConfig(): Record<string, unknown> {
    return {
      vite: defineViteConfig({}),
      inertia: defineInertiaConfig({
        rootView: 'inertia_layout',
        assetsVersion: '1',
        ssr: { enabled: false },
      }),
    }
  },

  /**
   * Inertia's server middleware: the package's own on Inertia 3, the app's
   * subclass of the package's base class on Inertia 5.
   */
  inertiaServerMiddleware: (adonisMajor === 7
    ? [() => import('./inertia_middleware.js')]
    : [() => import('@adonisjs/inertia/inertia_middleware')]) as unknown as ServerMiddleware,

  /** The headers of an Inertia client with `assetsVersion: '1'`. */
  inertiaHeaders: { 'x-inertia': 'true', 'x-inertia-version': '1' },
}
