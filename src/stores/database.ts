import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import debug, { debugSecrets } from '../debug.js'
import { E_INVALID_SESSION_CONFIG } from '../errors.js'
import { attachSnapshot, decodePayload, encodePayload, mergedData } from '../payload.js'
import type {
  SessionChanges,
  SessionData,
  SessionStoreWithMergeContract,
  SessionStoreWithTaggingContract,
  TaggedSession,
} from '../types.js'

/**
 * Options of the database store (see `stores.database()`).
 */
export interface DatabaseStoreOptions {
  /** The sessions table; `sessions` by default. */
  tableName?: string
  /** Percent chance (0–100) that a write also deletes expired rows; 2 by default. */
  gcProbability?: number
}

/**
 * The dialects with an upsert (ON CONFLICT / ON DUPLICATE KEY) the store relies on.
 */
const SUPPORTED_DIALECTS = new Set(['postgres', 'mysql', 'sqlite3', 'better-sqlite3', 'libsql'])

/**
 * SQLite dialects: one writer at a time, and no `SELECT … FOR UPDATE`.
 */
const SQLITE_DIALECTS = new Set(['sqlite3', 'better-sqlite3', 'libsql'])

type Knex = ReturnType<QueryClientContract['getWriteClient']>
type Row = { id: string; data: string }

/**
 * Sessions in a SQL table through @adonisjs/lucid, with the columns of the
 * `make:session-table` migration: `id`, `data` (the @adonisjs/session payload),
 * `user_id` (tagging) and `expires_at`. Every query goes to the write
 * connection, never a read replica, and binds the current time from Node, so
 * expired rows are never returned. Merges compare-and-swap against the data
 * the request read, then fall back to a row-locking transaction.
 */
export class DatabaseStore
  implements SessionStoreWithTaggingContract, SessionStoreWithMergeContract
{
  #client: QueryClientContract
  #tableName: string
  #ageMs: number
  #gcProbability: number
  #dialect: string
  #collecting = false
  #mergeConflicts = 0

  constructor(
    client: QueryClientContract,
    ageInSeconds: number,
    options: DatabaseStoreOptions = {}
  ) {
    if (!SUPPORTED_DIALECTS.has(client.dialect.name)) {
      throw new E_INVALID_SESSION_CONFIG([
        `"stores.database()" uses the connection "${client.connectionName}" (${client.dialect.name}), which has no upsert. Use a PostgreSQL, MySQL/MariaDB or SQLite/libSQL connection`,
      ])
    }
    this.#client = client
    this.#dialect = client.dialect.name
    this.#tableName = options.tableName ?? 'sessions'
    this.#ageMs = ageInSeconds * 1000
    this.#gcProbability = options.gcProbability ?? 2
  }

  /**
   * How many compare-and-swaps of this store found the session changed by
   * someone else since it was read, and were tried again.
   */
  get mergeConflicts(): number {
    return this.#mergeConflicts
  }

  /** The write connection's query builder (sessions never read from a replica). */
  get #knex(): Knex {
    return this.#client.getWriteClient()
  }

  #expiryFrom(now: number): Date {
    return new Date(now + this.#ageMs)
  }

  /**
   * `expires_at` set to itself: on MySQL tables created with implicit
   * TIMESTAMP defaults (ON UPDATE CURRENT_TIMESTAMP), an UPDATE that leaves
   * the column out would reset it to now and expire the session.
   */
  #keepExpiry() {
    return this.#knex.ref(`${this.#tableName}.expires_at`)
  }

  /** Read a live session; corrupt rows read as null and are deleted. */
  async read(sessionId: string): Promise<SessionData | null> {
    const row: Pick<Row, 'data'> | undefined = await this.#knex(this.#tableName)
      .select('data')
      .where('id', sessionId)
      .where('expires_at', '>', new Date())
      .first()
    if (!row) {
      return null
    }
    const data = decodePayload(sessionId, row.data)
    if (!data) {
      debugSecrets('database store: deleting the undecodable row of session %s', sessionId)
      await this.destroy(sessionId)
      return null
    }
    return attachSnapshot(data, row.data)
  }

  /** Insert or replace a session's data and reset its expiry; the user link is kept. */
  async write(sessionId: string, data: SessionData): Promise<void> {
    await this.#knex(this.#tableName)
      .insert({
        id: sessionId,
        data: encodePayload(sessionId, data),
        expires_at: this.#expiryFrom(Date.now()),
      })
      .onConflict('id')
      .merge(['data', 'expires_at'])
    this.#collectGarbageSometimes()
  }

  /**
   * Apply one request's changes atomically. First one UPDATE that succeeds
   * only if the row still holds what the request read (`snapshot`); when
   * another request wrote in between, a transaction locks the row, re-reads it
   * and applies the changes on top. A destroyed or expired session stays gone.
   */
  async merge(sessionId: string, changes: SessionChanges, snapshot?: unknown): Promise<void> {
    const swapped =
      typeof snapshot === 'string' && (await this.#compareAndSwap(sessionId, changes, snapshot))
    if (!swapped) {
      if (typeof snapshot === 'string') this.#mergeConflicts++
      await this.#mergeLocked(sessionId, changes, snapshot)
    }
    this.#collectGarbageSometimes()
  }

  /** Write the merged data if the row still holds `snapshot`; true when it did. */
  async #compareAndSwap(sessionId: string, changes: SessionChanges, snapshot: string) {
    const next = mergedData(sessionId, snapshot, snapshot, changes)
    if (!next) {
      return false
    }
    const now = Date.now()
    const query = this.#knex(this.#tableName)
      .where('id', sessionId)
      .where('expires_at', '>', new Date(now))
    if (this.#dialect === 'mysql') {
      // MySQL compares TEXT with the column collation, often case-insensitive: compare bytes.
      query.whereRaw('CAST(?? AS BINARY) = CAST(? AS BINARY)', ['data', snapshot])
    } else {
      query.where('data', snapshot)
    }
    const updated = await query.update({
      data: encodePayload(sessionId, next),
      expires_at: this.#expiryFrom(now),
    })
    return Number(updated) > 0
  }

  /** Lock the row, apply the changes on what it holds now, write it back. */
  async #mergeLocked(sessionId: string, changes: SessionChanges, snapshot: unknown) {
    await this.#knex.transaction(async (transaction) => {
      const now = Date.now()
      const select = transaction(this.#tableName)
        .select('data')
        .where('id', sessionId)
        .where('expires_at', '>', new Date(now))
      // SQLite has a single writer and no row locks; the server engines lock the row.
      if (!SQLITE_DIALECTS.has(this.#dialect)) {
        select.forUpdate()
      }
      const row: Pick<Row, 'data'> | undefined = await select.first()
      const next = row ? mergedData(sessionId, row.data, snapshot, changes) : null
      if (!next) {
        return
      }
      await transaction(this.#tableName)
        .where('id', sessionId)
        .update({
          data: encodePayload(sessionId, next),
          expires_at: this.#expiryFrom(now),
        })
    })
  }

  /** Delete a session's row. */
  async destroy(sessionId: string): Promise<void> {
    await this.#knex(this.#tableName).where('id', sessionId).delete()
  }

  /** Extend the expiry with one UPDATE; an expired or missing row is left alone. */
  async touch(sessionId: string): Promise<void> {
    const now = Date.now()
    await this.#knex(this.#tableName)
      .where('id', sessionId)
      .where('expires_at', '>', new Date(now))
      .update({ expires_at: this.#expiryFrom(now) })
  }

  /**
   * Link a session to a user (`user_id`). A session without a row yet gets one
   * with empty data, as @adonisjs/session does; an existing row keeps its data
   * and expiry.
   */
  async tag(sessionId: string, userId: string | number): Promise<void> {
    await this.#knex(this.#tableName)
      .insert({
        id: sessionId,
        data: encodePayload(sessionId, {}),
        user_id: String(userId),
        expires_at: this.#expiryFrom(Date.now()),
      })
      .onConflict('id')
      .merge({ user_id: String(userId), expires_at: this.#keepExpiry() })
  }

  /** Remove the user link of a session. */
  async untag(sessionId: string): Promise<void> {
    await this.#knex(this.#tableName)
      .where('id', sessionId)
      .update({ user_id: null, expires_at: this.#keepExpiry() })
  }

  /** The live sessions of a user (one indexed query on `user_id`). */
  async tagged(userId: string | number): Promise<TaggedSession[]> {
    const rows: Row[] = await this.#knex(this.#tableName)
      .select('id', 'data')
      .where('user_id', String(userId))
      .where('expires_at', '>', new Date())
    const sessions: TaggedSession[] = []
    for (const row of rows) {
      const data = decodePayload(row.id, row.data)
      if (data) {
        sessions.push({ id: row.id, data })
      }
    }
    return sessions
  }

  /** Delete every expired row; returns how many were deleted. */
  async prune(): Promise<number> {
    const deleted = await this.#knex(this.#tableName).where('expires_at', '<=', new Date()).delete()
    return Number(deleted)
  }

  /**
   * On `gcProbability` percent of writes, delete expired rows in the
   * background: one run at a time, and a failure is only logged, never
   * failing the request.
   */
  #collectGarbageSometimes() {
    if (this.#collecting || Math.random() * 100 >= this.#gcProbability) {
      return
    }
    this.#collecting = true
    this.prune()
      .then((deleted) => debug('database store: garbage collection deleted %d rows', deleted))
      .catch((error) => debug('database store: garbage collection failed: %s', error?.message))
      .finally(() => {
        this.#collecting = false
      })
  }
}
