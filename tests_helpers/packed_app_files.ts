import { adonisMajor } from './framework.js'

/**
 * The session package a fresh app runs: adonis-satchel (installed from its
 * packed tarball) or the official `@adonisjs/session` of the app's AdonisJS
 * major (7.x on AdonisJS 6, 8.x on 7).
 */
export type AppSessionPackage = 'adonis-satchel' | '@adonisjs/session'

/** The stores every fresh app configures, as `SESSION_DRIVER` names them. */
export const APP_STORES = ['cookie', 'memory', 'file', 'redis', 'database', 'dynamodb'] as const

/** One of the stores of a fresh app. */
export type AppStore = (typeof APP_STORES)[number]

/**
 * Shared by both packages' config: one cookie, one age, one place per store
 * (`SESSION_FILES`, `DB_FILE`, `DYNAMODB_ENDPOINT` come from the environment),
 * so switching packages keeps the browser's cookies and the stored sessions.
 */
const STORE_OPTIONS = {
  cookie: 'stores.cookie()',
  file: `stores.file({ location: env.get('SESSION_FILES') })`,
  redis: `stores.redis({ connection: 'main' })`,
  database: 'stores.database()',
  dynamodb: `stores.dynamodb({
      clientConfig: {
        endpoint: env.get('DYNAMODB_ENDPOINT'),
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      },
      tableName: 'Session',
      keyAttribute: 'key',
    })`,
}

/** The session config both packages read: `defineConfig` and `stores` of `source`. */
function sessionConfig(source: AppSessionPackage, extra: { imports: string; stores: string }) {
  return `import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, stores } from '${source}'
${extra.imports}
export default defineConfig({
  enabled: true,
  cookieName: 'adonis-session',
  clearWithBrowser: false,
  age: '2h',
  cookie: { path: '/', httpOnly: true, secure: app.inProduction, sameSite: 'lax' },
  store: env.get('SESSION_DRIVER'),
  stores: {
    cookie: ${STORE_OPTIONS.cookie},
    file: ${STORE_OPTIONS.file},
    redis: ${STORE_OPTIONS.redis},
    database: ${STORE_OPTIONS.database},
    dynamodb: ${STORE_OPTIONS.dynamodb},${extra.stores}
  },
})
`
}

/** Routes both packages serve, over `ctx.session` only. */
const SHARED_ROUTES = `router.get('/health', () => 'ok')

router.get('/session-id', ({ session }) => ({ sessionId: session.sessionId }))

router.get('/visits', ({ session }) => {
  session.increment('visits')
  return { visits: session.get('visits') }
})

router.post('/notes', ({ session, request, response }) => {
  session.flash('notice', \`saved \${request.input('title')}\`)
  return response.redirect('/notes')
})

router.get('/notes', ({ session }) => ({ notice: session.flashMessages.get('notice') ?? null }))
`

/** Routes only adonis-satchel serves: tags, its service, subpath exports. */
const SATCHEL_ROUTES = `
router.get('/login/:user', async ({ session, params }) => {
  session.put('userId', params.user)
  await session.tag(params.user)
  return { store: sessions.storeName }
})

router.get('/sessions/:user', async ({ params }) => ({
  count: (await sessions.tagged(params.user)).length,
}))

router.get('/subpaths', async ({ request }) => {
  const exports: Record<string, string[]> = {}
  for (const subpath of request.input('names', []) as string[]) {
    exports[subpath] = Object.keys(await import(subpath)).sort()
  }
  return exports
})
`

/** A custom store, as the docs show, to check the store contract type. */
const COUNTING_STORE = `import type { SessionData, SessionStoreContract } from 'adonis-satchel/types'

/**
 * A custom store, as the docs show, to check the store contract type.
 */
export class CountingStore implements SessionStoreContract {
  entries = new Map<string, SessionData>()
  read(sessionId: string) {
    return this.entries.get(sessionId) ?? null
  }
  write(sessionId: string, data: SessionData) {
    this.entries.set(sessionId, data)
  }
  destroy(sessionId: string) {
    this.entries.delete(sessionId)
  }
  touch() {}
}
`

/** `bin/server.ts` or `bin/console.ts` of a fresh app: the Ignitor, as the starter kits boot. */
function entryPoint(kind: 'server' | 'console') {
  const run =
    kind === 'server'
      ? `    app.listen('SIGTERM', () => app.terminate())
  })
  .httpServer()
  .start()`
      : `  })
  .ace()
  .handle(process.argv.splice(2))`
  return `import { Ignitor, prettyPrintError } from '@adonisjs/core'

const APP_ROOT = new URL('../', import.meta.url)
const IMPORTER = (filePath: string) =>
  filePath.startsWith('./') || filePath.startsWith('../')
    ? import(new URL(filePath, APP_ROOT).href)
    : import(filePath)

new Ignitor(APP_ROOT, { importer: IMPORTER })
  .tap((app) => {
    app.booting(async () => {
      await import('#start/env')
    })
${run}
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
`
}

/**
 * Where the app keeps its key, per AdonisJS major: `appKey` in
 * `config/app.ts` on 6; `config/encryption.ts` (a `gcm` default encrypter, as
 * a new app has) on 7.
 */
function keyFiles(): Record<string, string> {
  const http = `export const http = defineConfig({
  generateRequestId: true,
  allowMethodSpoofing: false,
  useAsyncLocalStorage: false,
  cookie: { domain: '', path: '/', maxAge: '2h', httpOnly: true, secure: false, sameSite: 'lax' },
})
`
  if (adonisMajor === 6) {
    return {
      'config/app.ts': `import env from '#start/env'
import { Secret } from '@adonisjs/core/helpers'
import { defineConfig } from '@adonisjs/core/http'

export const appKey = new Secret(env.get('APP_KEY'))

${http}`,
    }
  }
  return {
    'config/app.ts': `import { defineConfig } from '@adonisjs/core/http'

export const appUrl = 'http://127.0.0.1:3333'

${http}`,
    'config/encryption.ts': `import env from '#start/env'
import { defineConfig, drivers } from '@adonisjs/core/encryption'

export default defineConfig({
  default: 'gcm',
  list: { gcm: drivers.aes256gcm({ id: 'gcm', keys: [env.get('APP_KEY')] }) },
})
`,
  }
}

/**
 * The files of a fresh AdonisJS app of the running major, as a developer
 * writes them: TypeScript run through ts-node, `#start/*` imports, env
 * validation, the session provider, middleware and `config/session.ts` of
 * `source`. The adonis-satchel app also has ace commands, a custom store and
 * routes over its service.
 */
export function appFiles(source: AppSessionPackage): Record<string, string> {
  const satchel = source === 'adonis-satchel'
  return {
    'package.json': JSON.stringify(
      {
        name: satchel ? 'satchel-package-app' : 'official-session-app',
        private: true,
        type: 'module',
        imports: { '#start/*': './start/*.js', '#app/*': './app/*.js' },
        dependencies: {},
      },
      null,
      2
    ),
    'tsconfig.json': JSON.stringify({
      extends: '@adonisjs/tsconfig/tsconfig.app.json',
      compilerOptions: { rootDir: './', outDir: './build' },
    }),
    'ace.js': `import 'ts-node-maintained/register/esm'
await import('./bin/console.js')
`,
    'adonisrc.ts': `import { defineConfig } from '@adonisjs/core/app'

export default defineConfig({
  commands: [() => import('@adonisjs/lucid/commands')${satchel ? ", () => import('adonis-satchel/commands')" : ''}],
  providers: [
    () => import('@adonisjs/core/providers/app_provider'),
    () => import('@adonisjs/core/providers/hash_provider'),
    () => import('@adonisjs/redis/redis_provider'),
    () => import('@adonisjs/lucid/database_provider'),
    () => import('${source}/session_provider'),
  ],
  preloads: [() => import('#start/routes'), () => import('#start/kernel')],
})
`,
    'bin/server.ts': entryPoint('server'),
    'bin/console.ts': entryPoint('console'),
    'start/env.ts': `import { Env } from '@adonisjs/core/env'

export default await Env.create(new URL('../', import.meta.url), {
  NODE_ENV: Env.schema.enum(['development', 'production', 'test'] as const),
  PORT: Env.schema.number(),
  HOST: Env.schema.string({ format: 'host' }),
  APP_KEY: Env.schema.string(),
  SESSION_DRIVER: Env.schema.enum(['${APP_STORES.join("', '")}'${satchel ? ", 'counting'" : ''}] as const),
  SESSION_FILES: Env.schema.string(),
  DB_FILE: Env.schema.string(),
  DYNAMODB_ENDPOINT: Env.schema.string(),
  REDIS_HOST: Env.schema.string({ format: 'host' }),
  REDIS_PORT: Env.schema.number(),
})
`,
    'start/kernel.ts': `import router from '@adonisjs/core/services/router'

router.use([
  () => import('@adonisjs/core/bodyparser_middleware'),
  () => import('${source}/session_middleware'),
])
`,
    'start/routes.ts': `import router from '@adonisjs/core/services/router'
${satchel ? "import sessions from 'adonis-satchel/services/main'\n" : ''}
${SHARED_ROUTES}${satchel ? SATCHEL_ROUTES : ''}`,
    ...(satchel ? { 'app/counting_store.ts': COUNTING_STORE } : {}),
    ...keyFiles(),
    'config/bodyparser.ts': `import { defineConfig } from '@adonisjs/core/bodyparser'

export default defineConfig({ allowedMethods: ['POST'] })
`,
    'config/logger.ts': `import { defineConfig } from '@adonisjs/core/logger'

export default defineConfig({ default: 'app', loggers: { app: { enabled: true, level: 'warn' } } })
`,
    'config/hash.ts': `import { defineConfig, drivers } from '@adonisjs/core/hash'

export default defineConfig({ default: 'scrypt', list: { scrypt: drivers.scrypt({}) } })
`,
    'config/redis.ts': `import env from '#start/env'
import { defineConfig } from '@adonisjs/redis'

export default defineConfig({
  connection: 'main',
  connections: { main: { host: env.get('REDIS_HOST'), port: env.get('REDIS_PORT') } },
})
`,
    'config/database.ts': `import env from '#start/env'
import { defineConfig } from '@adonisjs/lucid'

export default defineConfig({
  connection: 'sqlite',
  connections: {
    sqlite: {
      client: 'better-sqlite3',
      connection: { filename: env.get('DB_FILE') },
      useNullAsDefault: true,
      migrations: { naturalSort: true, paths: ['database/migrations'] },
    },
  },
})
`,
    'config/session.ts': satchel
      ? sessionConfig(source, {
          imports:
            "import { CountingStore } from '#app/counting_store'\n\nconst countingStore = new CountingStore()\n",
          stores: '\n    counting: () => countingStore,',
        })
      : sessionConfig(source, { imports: '', stores: '' }),
  }
}
