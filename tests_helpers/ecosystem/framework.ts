import { defineConfig as defineInertiaConfig } from '@adonisjs/inertia'
import { defineConfig as defineViteConfig } from '@adonisjs/vite'

/**
 * What differs between the AdonisJS majors in the integration app, and only
 * that: AdonisJS 6 (auth 9, shield 8, inertia 3 with vite 4) here.
 */
export const FRAMEWORK = {
  /** The providers Inertia needs. */
  inertiaProviders: [
    () => import('@adonisjs/vite/vite_provider'),
    () => import('@adonisjs/inertia/inertia_provider'),
  ],

  /** The config files of Inertia and Vite. */
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

  /** Inertia's middleware, a server middleware in the starter kits. */
  inertiaServerMiddleware: [() => import('@adonisjs/inertia/inertia_middleware')],

  /** The version header an Inertia client sends with `assetsVersion: '1'`. */
  inertiaHeaders: { 'x-inertia': 'true', 'x-inertia-version': '1' },
}
