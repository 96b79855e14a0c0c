import { defineConfig } from '@adonisjs/core/app'

/**
 * The demo app's rc file. In your app, register the provider as
 * `() => import('adonis-satchel/session_provider')`.
 */
export default defineConfig({
  commands: [],
  providers: [
    () => import('@adonisjs/core/providers/app_provider'),
    () => import('@adonisjs/core/providers/vinejs_provider'),
    () => import('@adonisjs/core/providers/edge_provider'),
    () => import('@adonisjs/core/providers/hash_provider'),
    () => import('@adonisjs/lucid/database_provider'),
    () => import('@adonisjs/redis/redis_provider'),
    () => import('../providers/session_provider.js'),
    () => import('@adonisjs/auth/auth_provider'),
  ],
  preloads: [
    () => import('./start/database.js'),
    () => import('./start/routes.js'),
    () => import('./start/kernel.js'),
  ],
  metaFiles: [{ pattern: 'resources/views/**/*.edge', reloadServer: false }],
})
