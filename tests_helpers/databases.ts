import { createConnection } from 'node:net'
import { randomBytes } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Database } from '@adonisjs/lucid/database'
import { defineConfig } from '@adonisjs/lucid'
import { LoggerFactory } from '@adonisjs/core/factories/logger'
import { Emitter } from '@adonisjs/core/events'
import { AppFactory } from '@adonisjs/core/factories/app'
import type { ConnectionConfig, QueryClientContract } from '@adonisjs/lucid/types/database'

/**
 * The SQL engines the database store is tested on.
 */
export type SqlEngine = 'sqlite' | 'postgres' | 'mysql'

/**
 * Every engine, in the order the specs run them.
 */
export const SQL_ENGINES: SqlEngine[] = ['sqlite', 'postgres', 'mysql']

const SQLITE_FOLDER = fileURLToPath(new URL('../tmp/sqlite/', import.meta.url))

/**
 * Host and port of a server engine, from PG_* / MYSQL_* env with this machine's defaults.
 */
function serverAddress(engine: Exclude<SqlEngine, 'sqlite'>): { host: string; port: number } {
  if (engine === 'postgres') {
    return { host: process.env.PG_HOST ?? '127.0.0.1', port: Number(process.env.PG_PORT ?? 5432) }
  }
  return {
    host: process.env.MYSQL_HOST ?? '127.0.0.1',
    port: Number(process.env.MYSQL_PORT ?? 3306),
  }
}

/**
 * The Lucid connection config of an engine. SQLite uses one better-sqlite3 file
 * per call under tmp/sqlite; `port` overrides the server port (to aim at a closed one).
 */
function connectionConfig(engine: SqlEngine, port?: number): ConnectionConfig {
  if (engine === 'sqlite') {
    return {
      client: 'better-sqlite3',
      connection: { filename: `${SQLITE_FOLDER}${randomBytes(6).toString('hex')}.sqlite3` },
      useNullAsDefault: true,
    }
  }
  const address = serverAddress(engine)
  if (engine === 'postgres') {
    return {
      client: 'pg',
      connection: {
        host: address.host,
        port: port ?? address.port,
        user: process.env.PG_USER ?? 'postgres',
        password: process.env.PG_PASSWORD ?? '',
        database: process.env.PG_DATABASE ?? 'test',
      },
    }
  }
  return {
    client: 'mysql2',
    connection: {
      host: address.host,
      port: port ?? address.port,
      user: process.env.MYSQL_USER ?? 'root',
      password: process.env.MYSQL_PASSWORD ?? '',
      database: process.env.MYSQL_DATABASE ?? 'test',
    },
  }
}

/**
 * The `config/database.ts` contents of a test app using one engine, under the
 * connection name `engine`.
 */
export function lucidConfig(engine: SqlEngine, port?: number) {
  return defineConfig({
    connection: engine,
    connections: { [engine]: connectionConfig(engine, port) },
  })
}

/**
 * Whether the engine can be used here. SQLite always can; a server engine when
 * its port accepts a TCP connection.
 */
async function isEngineReachable(engine: SqlEngine): Promise<boolean> {
  if (engine === 'sqlite') {
    return true
  }
  const { host, port } = serverAddress(engine)
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host, port })
    const done = (reachable: boolean) => {
      socket.destroy()
      resolve(reachable)
    }
    socket.setTimeout(1000)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}

/**
 * Why an engine's tests do not run, or undefined when they do. Under CI=true
 * nothing is skipped: a missing server makes the tests fail instead.
 */
export async function engineSkipReason(engine: SqlEngine): Promise<string | undefined> {
  if (process.env.CI === 'true' || (await isEngineReachable(engine))) {
    return undefined
  }
  const { host, port } = serverAddress(engine as Exclude<SqlEngine, 'sqlite'>)
  const reason = `${engine} is not reachable at ${host}:${port}; its database store tests are SKIPPED (they fail under CI=true)`
  console.warn(`\n  !!! ${reason}\n`)
  return reason
}

/**
 * A Lucid `Database` with one connection named after the engine.
 */
export async function openDatabase(engine: SqlEngine, port?: number): Promise<Database> {
  if (engine === 'sqlite') {
    await mkdir(SQLITE_FOLDER, { recursive: true })
  }
  const app = new AppFactory().create(new URL('../tmp/', import.meta.url))
  const emitter = new Emitter<any>(app)
  return new Database(lucidConfig(engine, port), new LoggerFactory().create(), emitter)
}

/**
 * Close every connection of a Lucid `Database` and delete its SQLite files.
 */
export async function closeDatabase(db: Database): Promise<void> {
  await db.manager.closeAll()
  await removeSqliteFiles(db.config.connections)
}

/**
 * Delete the SQLite files of a `config/database.ts` connections object.
 */
export async function removeSqliteFiles(connections: Record<string, ConnectionConfig>) {
  for (const connection of Object.values(connections)) {
    const filename = (connection.connection as { filename?: string } | undefined)?.filename
    if (connection.client === 'better-sqlite3' && filename?.startsWith(SQLITE_FOLDER)) {
      await rm(filename, { force: true })
    }
  }
}

/**
 * A table name no other run uses.
 */
export function uniqueTableName(): string {
  return `sessions_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
}

/**
 * Create a sessions table with the columns of the `make:session-table`
 * migration (id, data, user_id, expires_at). `precision` is the fractional
 * seconds of expires_at; MySQL's TIMESTAMP keeps whole seconds without it.
 */
export async function createSessionsTable(
  client: QueryClientContract,
  tableName: string,
  options: { precision?: number } = {}
): Promise<void> {
  await client.schema.createTable(tableName, (table) => {
    table.string('id').primary()
    table.text('data').notNullable()
    table.string('user_id').nullable().index()
    if (options.precision === undefined) {
      table.timestamp('expires_at').notNullable().index()
    } else {
      table.timestamp('expires_at', { precision: options.precision }).notNullable().index()
    }
  })
}

/**
 * Drop a sessions table when it exists.
 */
export async function dropSessionsTable(client: QueryClientContract, tableName: string) {
  await client.schema.dropTableIfExists(tableName)
}

/**
 * A stored `expires_at` value as epoch milliseconds (SQLite returns numbers,
 * PostgreSQL and MySQL return Dates).
 */
export function epochMilliseconds(value: unknown): number {
  if (value instanceof Date) {
    return value.getTime()
  }
  if (typeof value === 'number') {
    return value
  }
  return new Date(String(value)).getTime()
}
