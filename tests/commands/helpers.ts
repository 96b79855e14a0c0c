import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { IgnitorFactory } from '@adonisjs/core/factories'
import type { Kernel } from '@adonisjs/core/ace'
import { defineConfig as defineDatabaseConfig } from '@adonisjs/lucid'
import { createTestApp, type TestApp } from '../../tests_helpers/index.js'
import { defineConfig, stores } from '../../index.js'

const TMP = fileURLToPath(new URL('../../tmp/', import.meta.url))

/**
 * What an ace command run printed and its exit code.
 */
export interface AceRun {
  exitCode: number | undefined
  output: string
}

/**
 * Extra providers, commands and config of an app (e.g. Lucid).
 */
export interface AppExtras {
  config?: Record<string, any>
  providers?: (() => Promise<any>)[]
  commands?: (() => Promise<any>)[]
}

/**
 * A fresh, empty app root of its own (not the tmp/fs shared by every test
 * file) inside the repo's tmp/, so its migrations resolve the repo's
 * packages; removed by the test's cleanup.
 */
export async function createAppRoot(cleanup: (handler: () => Promise<void>) => void) {
  await mkdir(TMP, { recursive: true })
  const root = await mkdtemp(join(TMP, 'ace-'))
  cleanup(() => rm(root, { recursive: true, force: true }))
  return pathToFileURL(`${root}/`)
}

/**
 * Run `node ace <argv>` the way bin/console.ts does: a console app whose
 * rcFile lists the session provider and the package's commands, booted by
 * the ace process when the command asks for `startApp`.
 */
export async function runAce(
  appRoot: URL,
  session: unknown,
  argv: string[],
  extras: AppExtras = {}
): Promise<AceRun> {
  const ignitor = new IgnitorFactory()
    .merge({
      rcFileContents: {
        providers: [
          () => import('../../providers/session_provider.js'),
          ...(extras.providers ?? []),
        ],
        commands: [() => import('../../commands/main.js'), ...(extras.commands ?? [])],
      },
    })
    .withCoreConfig()
    .withCoreProviders()
    .merge({ config: { session, ...extras.config } })
    .create(appRoot, { importer: (path) => import(path) })

  let kernel: Kernel | undefined
  const exitCodeBefore = process.exitCode
  await ignitor
    .ace()
    .configure(async (app) => {
      kernel = (await app.container.make('ace')) as Kernel
      kernel.ui.switchMode('raw')
    })
    .handle(argv)
  const exitCode = process.exitCode
  process.exitCode = exitCodeBefore
  const output = kernel!.ui.logger
    .getLogs()
    .map((log) => log.message)
    .join('\n')
  return { exitCode: exitCode === undefined ? undefined : Number(exitCode), output }
}

/**
 * Routes that create sessions over HTTP: `/login/:user` stores a name, tags
 * the session with the user and returns its id; `/whoami` returns the name.
 */
export async function createSessionApp(session: unknown, extras: AppExtras = {}): Promise<TestApp> {
  return createTestApp({
    session,
    config: extras.config,
    providers: extras.providers,
    routes: (router) => {
      router.get('/login/:user', async ({ session: current, params }) => {
        current.put('name', `user ${params.user}`)
        await current.tag(params.user)
        return { id: current.sessionId }
      })
      router.get('/whoami', ({ session: current }) => ({ name: current.get('name') ?? null }))
    },
  })
}

/**
 * Lucid on a SQLite file inside `appRoot`: its provider, its commands
 * (migration:run) and config/database.ts.
 */
export function withLucid(appRoot: URL): AppExtras {
  return {
    providers: [() => import('@adonisjs/lucid/database_provider')],
    commands: [() => import('@adonisjs/lucid/commands')],
    config: {
      database: defineDatabaseConfig({
        connection: 'sqlite',
        connections: {
          sqlite: {
            client: 'better-sqlite3',
            connection: { filename: fileURLToPath(new URL('./db.sqlite3', appRoot)) },
            useNullAsDefault: true,
            migrations: { naturalSort: true, paths: ['database/migrations'] },
          },
        },
      }),
    },
  }
}

/**
 * Create the sessions table as an app does: `make:session-table`, then
 * `migration:run`.
 */
export async function migrateSessionsTable(appRoot: URL, session: unknown): Promise<void> {
  for (const argv of [['make:session-table'], ['migration:run']]) {
    const { exitCode, output } = await runAce(appRoot, session, argv, withLucid(appRoot))
    if (exitCode !== 0) {
      throw new Error(`"node ace ${argv.join(' ')}" failed:\n${output}`)
    }
  }
}

/**
 * Session configs by store, the same for the HTTP app and the ace process.
 * File sessions go to `folder`; the database store needs `withLucid()`.
 */
export function storeConfigs(folder: string) {
  return {
    file: () =>
      defineConfig({ store: 'file', stores: { file: stores.file({ location: folder }) } }),
    memory: () => defineConfig({ store: 'memory', stores: { memory: stores.memory() } }),
    cookie: () => defineConfig({ store: 'cookie', stores: { cookie: stores.cookie() } }),
    database: () => defineConfig({ store: 'database', stores: { database: stores.database() } }),
  }
}

/** A user id no other test uses (the memory store is shared by the process). */
export function newUser(): string {
  return `user-${Math.random().toString(36).slice(2)}`
}
