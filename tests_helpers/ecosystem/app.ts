import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { IgnitorFactory } from '@adonisjs/core/factories'
import type { ApplicationService } from '@adonisjs/core/types'
import { defineConfig as defineShieldConfig } from '@adonisjs/shield'
import { defineConfig as defineDatabaseConfig } from '@adonisjs/lucid'
import type { Database } from '@adonisjs/lucid/database'
import { defineConfig, stores } from '../../index.js'
import type { SessionManager } from '../../src/session_manager.js'
import type { SessionConfigInput } from '../../src/define_config.js'
import { BASE_URL } from '../index.js'
import { AUTH_CONFIG } from './auth_config.js'
import { FRAMEWORK } from './framework.js'
import { ecosystemRoutes } from './routes.js'

/**
 * The integration app: a real AdonisJS app with adonis-satchel,
 * @adonisjs/auth (session guard with remember-me tokens), @adonisjs/shield
 * (CSRF), @adonisjs/inertia, VineJS and Lucid on SQLite, served on loopback.
 */
export interface EcosystemApp {
  app: ApplicationService
  url: string
  manager: SessionManager
  db: Database
  close(): Promise<void>
}

/**
 * The middleware of every route, as the AdonisJS starter kits order them:
 * body parser, session, shield, auth initializer, then a silent auth check
 * (so every route, skipped ones included, reads `ctx.session`).
 */
function routerMiddleware() {
  return [
    () => import('@adonisjs/core/bodyparser_middleware'),
    () => import('../../src/session_middleware.js'),
    () => import('@adonisjs/shield/shield_middleware'),
    () => import('@adonisjs/auth/initialize_auth_middleware'),
    () => import('./silent_auth_middleware.js'),
  ]
}

/**
 * Create the tables of the app: users and remember-me tokens (as the auth
 * starter kit's migrations), and the sessions table of the database store.
 */
async function migrate(db: Database) {
  await db.connection().schema.createTable('users', (table) => {
    table.increments('id')
    table.string('email').notNullable().unique()
    table.string('password').notNullable()
  })
  await db.connection().schema.createTable('remember_me_tokens', (table) => {
    table.increments('id')
    table.integer('tokenable_id').notNullable().references('id').inTable('users')
    table.string('hash').notNullable().unique()
    table.timestamp('created_at').notNullable()
    table.timestamp('updated_at').notNullable()
    table.timestamp('expires_at').notNullable()
  })
  await db.connection().schema.createTable('sessions', (table) => {
    table.string('id').primary()
    table.text('data').notNullable()
    table.string('user_id').nullable().index()
    table.timestamp('expires_at', { precision: 3 }).notNullable().index()
  })
}

/**
 * Boot the integration app on a fresh SQLite file. `session` overrides the
 * session config (the database store on the same SQLite by default, sessions
 * of auth tagged, `/health` and `/assets/*` skipped).
 */
export async function createEcosystemApp(
  session: Partial<SessionConfigInput<any>> = {}
): Promise<EcosystemApp> {
  const folder = new URL(`ecosystem-${randomUUID()}/`, BASE_URL)
  await mkdir(folder, { recursive: true })
  const ignitor = new IgnitorFactory()
    .merge({
      rcFileContents: {
        providers: [
          () => import('@adonisjs/core/providers/vinejs_provider'),
          () => import('@adonisjs/core/providers/edge_provider'),
          () => import('@adonisjs/lucid/database_provider'),
          () => import('../../providers/session_provider.js'),
          () => import('@adonisjs/shield/shield_provider'),
          () => import('@adonisjs/auth/auth_provider'),
          ...FRAMEWORK.inertiaProviders,
        ],
      },
    })
    .withCoreConfig()
    .withCoreProviders()
    .merge({
      config: {
        database: defineDatabaseConfig({
          connection: 'sqlite',
          connections: {
            sqlite: {
              client: 'better-sqlite3',
              connection: { filename: fileURLToPath(new URL('app.sqlite3', folder)) },
              useNullAsDefault: true,
            },
          },
        }),
        session: defineConfig({
          store: 'database',
          stores: {
            database: stores.database(),
            file: stores.file({ location: fileURLToPath(new URL('sessions', folder)) }),
          },
          skip: ['/health', '/assets/*'],
          auth: { tagSessions: true },
          ...session,
        } as SessionConfigInput<any>),
        shield: defineShieldConfig({
          csp: { enabled: false, directives: {}, reportOnly: false },
          csrf: {
            enabled: true,
            exceptRoutes: ['/assets/upload'],
            enableXsrfCookie: true,
            methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
          },
          xFrame: { enabled: true, action: 'DENY' },
          hsts: { enabled: false, maxAge: '180 days' },
          contentTypeSniffing: { enabled: true },
        }),
        auth: AUTH_CONFIG,
        ...FRAMEWORK.inertiaConfig(),
      },
    })
    .create(BASE_URL, { importer: (path) => import(path) })

  const app = ignitor.createApp('web')
  await app.init()
  try {
    await app.boot()
  } catch (error) {
    await app.terminate()
    await rm(folder, { recursive: true, force: true })
    throw error
  }
  const db = await app.container.make('lucid.db')
  await migrate(db)

  const server = await app.container.make('server')
  const router = await app.container.make('router')
  server.errorHandler(() => import('../../tests/fixtures/app_exception_handler.js'))
  server.use(FRAMEWORK.inertiaServerMiddleware)
  router.use(routerMiddleware())
  ecosystemRoutes(router)
  await app.start(async () => {})
  await server.boot()

  const httpServer = createServer((req, res) => server.handle(req, res))
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  const { port } = httpServer.address() as AddressInfo
  return {
    app,
    db,
    url: `http://127.0.0.1:${port}`,
    manager: await app.container.make('session.manager'),
    async close() {
      await new Promise<void>((resolve) => httpServer.close(() => resolve()))
      await app.terminate()
      await rm(folder, { recursive: true, force: true })
    },
  }
}
