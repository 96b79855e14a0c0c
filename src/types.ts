import type { HttpContext } from '@adonisjs/core/http'
import type { CookieOptions } from '@adonisjs/core/types/http'

/**
 * The values `session.put` accepts. Everything is stored as JSON, so Dates come
 * back as ISO strings; BigInt, functions, symbols and cycles are rejected.
 */
export type AllowedSessionValues = string | boolean | number | object | Date | Array<any> | null

/**
 * The data of one session: a plain JSON object.
 */
export type SessionData = Record<string, AllowedSessionValues>

/**
 * Facts kept next to a session's data, so an "active devices" page can show them.
 * Times are epoch milliseconds.
 */
export interface SessionMetadata {
  createdAt: number
  lastSeenAt: number
  ipAddress?: string
  userAgent?: string
  userId?: string
  /** When `tag()` linked the session to its user (epoch ms): checked by `cookieRevocation`. */
  taggedAt?: number
}

/**
 * A time before which a user's sessions are refused: a Date, epoch milliseconds,
 * or nothing when every session of the user is accepted.
 */
export type RevocationTime = Date | number | null | undefined

/**
 * Revocation of the sessions of a user, for the cookie store, whose sessions
 * live in the browser and cannot be ended on the server. A session tagged with
 * a user before the user's "valid after" time is refused.
 */
export interface CookieRevocationConfig {
  /**
   * The user's "valid after" time, e.g. a `sessions_valid_after` column set on
   * "sign out everywhere" or a password change. Called once per request of a
   * tagged session: keep it fast (a cached lookup).
   */
  validAfter(userId: string, ctx: HttpContext): RevocationTime | Promise<RevocationTime>
}

/**
 * How adonis-satchel follows @adonisjs/auth (`auth` in `config/session.ts`).
 */
export interface SessionAuthConfig {
  /**
   * Tag every session a session guard logs in, by password or by remember-me
   * token, with the user's id, and unlink it on logout: `tagged()` lists every
   * signed-in device and `destroyTagged()` can end them, with no `tag()` call
   * in the app. Needs a store that can tag (memory, file, redis, database,
   * dynamodb) or `cookieRevocation` on the cookie store.
   */
  tagSessions: boolean
  /** The session guards to follow (names from `config/auth.ts`); every one by default. */
  guards?: string[]
}

/**
 * A live session of a tagged user, as listed by `tagged(userId)`.
 */
export interface TaggedSession {
  id: string
  data: SessionData
  metadata?: SessionMetadata
}

/**
 * One change below the top level, replayed by a store on what it holds then:
 * `set`/`unset` a value at a path (the last writer of a path wins), add `by`
 * to the number at a path (a missing or non-number value counts as 0), or
 * append `items` to the array at a path (a new array when it holds none).
 * Removing a value also removes the parent objects it leaves empty.
 */
export type SessionOperation =
  | { type: 'set'; path: string[]; value: AllowedSessionValues }
  | { type: 'unset'; path: string[] }
  | { type: 'increment'; path: string[]; by: number }
  | { type: 'push'; path: string[]; items: AllowedSessionValues[] }

/**
 * What one request changed: the top-level values to set, the top-level keys
 * to remove, the changes below the top level (`operations`), and whether the
 * request started from an empty object (`clear()`). A store applies `cleared`,
 * then `unset` and `set`, then `operations` in order (see `applyChanges`).
 */
export interface SessionChanges {
  set: SessionData
  unset: string[]
  cleared: boolean
  /** Changes by path below the top level, increments and appends; none when absent. */
  operations?: SessionOperation[]
  /**
   * The whole session as this request leaves it: what applying the changes to
   * the data it read gives. A store that finds its stored value still equal to
   * the snapshot can store this as is, without decoding the snapshot again.
   */
  data?: SessionData
}

/**
 * The contract every session store implements (the same as @adonisjs/session).
 */
export interface SessionStoreContract {
  /** Read the data of a session, or null when it does not exist or has expired. */
  read(sessionId: string): Promise<SessionData | null> | SessionData | null
  /** Replace the data of a session and reset its expiry. */
  write(sessionId: string, data: SessionData): Promise<void> | void
  /** Remove a session. */
  destroy(sessionId: string): Promise<void> | void
  /** Extend the expiry of a session without changing its data. */
  touch(sessionId: string): Promise<void> | void
}

/**
 * A store that can link sessions to a user, to list and end them.
 */
export interface SessionStoreWithTaggingContract extends SessionStoreContract {
  /** Link a session to a user. */
  tag(sessionId: string, userId: string | number): Promise<void> | void
  /** Remove the user link of a session. */
  untag?(sessionId: string): Promise<void> | void
  /** The live sessions of a user. */
  tagged(userId: string | number): Promise<TaggedSession[]> | TaggedSession[]
}

/**
 * A store that applies one request's changes as an atomic merge into what is
 * stored, so parallel requests of a session never lose each other's updates.
 */
export interface SessionStoreWithMergeContract extends SessionStoreContract {
  /**
   * Apply changes atomically on top of the stored data and reset the expiry.
   * A session that no longer exists (destroyed or expired meanwhile) stays
   * gone: merge never recreates it, so a slow request cannot undo a logout.
   * `snapshot` is what the store attached to the data it read for this request
   * (see `attachSnapshot`), to compare-and-swap against.
   */
  merge(sessionId: string, changes: SessionChanges, snapshot?: unknown): Promise<void> | void
}

/**
 * Optional capabilities a store may declare with its own properties.
 */
export interface SessionStoreCapabilities {
  /** `read()` already refreshed the expiry (e.g. Redis GETEX): skip `touch()`. */
  readonly touchesOnRead?: boolean
  /**
   * The data lives in cookies next to the id cookie (the cookie store): a
   * response that writes data sends the id cookie with it, so the browser
   * keeps the pair of the response that arrived last.
   */
  readonly keepsDataInCookies?: boolean
  /**
   * Read without extending the expiry, for readonly sessions. Stores whose
   * `read` refreshes the expiry (`touchesOnRead`) should offer it.
   */
  peek?(sessionId: string): Promise<SessionData | null> | SessionData | null
  /** The store can delete expired entries in bulk (`node ace session:prune`). */
  prune?(): Promise<number> | number
  /** Release what the store opened itself (called when the app shuts down). */
  close?(): Promise<void> | void
}

/**
 * The session config the user writes in `config/session.ts`, without stores.
 */
export interface SessionConfig {
  /** Turn sessions off without removing the middleware. */
  enabled: boolean
  /** Name of the cookie that holds the signed session id. */
  cookieName: string
  /** Drop the id cookie when the browser closes (no Max-Age/Expires). */
  clearWithBrowser: boolean
  /** Idle timeout: a time expression ('2h', '30 mins') or seconds. */
  age: string | number
  /** Options of the session cookies. */
  cookie: Partial<CookieOptions>
  /**
   * Absolute timeout: a session older than this is ended, however active it is.
   * A time expression or seconds; off by default.
   */
  maxLifetime?: string | number
  /**
   * When false (consent mode), a session that holds no data is neither stored nor
   * given a cookie. Defaults to true, as @adonisjs/session.
   */
  saveUninitialized?: boolean
  /** Previous app keys, still accepted to verify cookies while keys rotate. */
  previousKeys?: string[]
  /** Milliseconds a store call may take before it fails with E_SESSION_STORE_UNAVAILABLE. */
  storeTimeout?: number
  /**
   * Input fields that are never flashed back as old input (names or dot
   * paths), on top of the fields whose names look secret.
   */
  neverFlash?: string[]
  /**
   * Leave out of the flashed old input every field whose name looks secret
   * (password, passcode, secret, token, otp, pin, cvv, card number, api key…,
   * in any case and with any separator, at any depth). Defaults to true.
   */
  detectSecretFields?: boolean
  /**
   * The most flashed old input may hold, per field (its name and value) and in
   * total, in bytes or as a size ('8kb'). A longer field is left out of the
   * flash, as are the fields after the total is reached. Defaults to 8kb and 32kb.
   */
  flashInputLimits?: FlashInputLimits
  /**
   * Refuse the sessions of a user tagged before a per-user time (see
   * CookieRevocationConfig). With it, `session.tag(userId)` works on the
   * cookie store: it records the user inside the sealed cookie.
   */
  cookieRevocation?: CookieRevocationConfig
  /** Follow @adonisjs/auth: tag the sessions it logs in with their user. */
  auth?: SessionAuthConfig
}

/**
 * Size limits of the flashed old input: bytes, or a size such as '8kb'.
 */
export interface FlashInputLimits {
  /** The most one field (its name and value) may take. */
  field?: number | string
  /** The most all the flashed fields together may take. */
  total?: number | string
}

/**
 * Resolves a session store for a request. Built-in stores return one shared
 * instance; custom factories may return a new store per request.
 */
export type SessionStoreFactory = (
  ctx: HttpContext,
  sessionConfig: ResolvedSessionConfig
) => SessionStoreContract

/**
 * The config once `defineConfig` resolved it: defaults applied and parsed.
 */
export interface ResolvedSessionConfig extends SessionConfig {
  store: string
  stores: Record<string, SessionStoreFactory>
  /** `age` in seconds. */
  ageInSeconds: number
  /** `maxLifetime` in seconds, or undefined. */
  maxLifetimeInSeconds?: number
  saveUninitialized: boolean
  previousKeys: string[]
  storeTimeout: number
  neverFlash: string[]
  detectSecretFields: boolean
  /** `flashInputLimits` in bytes. */
  flashInputLimitsInBytes: { field: number; total: number }
  /** True for requests that must not touch the session at all. */
  skip?: (ctx: HttpContext) => boolean
  /** The cookie codec built by the SessionManager from the app key(s). */
  sessionCookies?: import('./session_cookies.js').SessionCookies
}

/**
 * Config of the file store.
 */
export interface FileStoreConfig {
  /** Folder for the session files; created when missing. */
  location: string
  /**
   * The most, in bytes, the store keeps in this process of the files it read
   * (their contents and decoded data): 16 MiB by default, least recently used
   * forgotten first. 0 reads every file on every request.
   */
  cacheBytes?: number
}

/**
 * Config of the Redis store.
 */
export interface RedisStoreConfig {
  /** A connection name from `config/redis.ts`. */
  connection: string
  /** Prefix added to every key; none by default (as @adonisjs/session). */
  prefix?: string
  /**
   * Keep the payloads of sessions read here in this process, kept valid by
   * Redis (client-side caching with `CLIENT TRACKING`, Redis 6+): a request
   * that only reads a cached session makes no round trip, and the TTL is
   * pushed forward at most once a minute. Off by default; needs Redis 6+ and a
   * second connection; never used on a cluster or with `enableAutoPipelining`.
   */
  localCache?: boolean
  /**
   * The most, in bytes, the store keeps in this process of the decoded data of
   * sessions read again, and as much again for the local cache: 16 MiB by
   * default, least recently used forgotten first. 0 parses every read.
   */
  cacheBytes?: number
}

/**
 * Config of the DynamoDB store.
 */
export type DynamoDBStoreConfig = (
  | { client: import('@aws-sdk/client-dynamodb').DynamoDBClient }
  | { clientConfig: import('@aws-sdk/client-dynamodb').DynamoDBClientConfig }
) & {
  /** The table; `Session` by default. */
  tableName?: string
  /** The table's string partition key; `key` by default. */
  keyAttribute?: string
  /**
   * A global secondary index with partition key `user_id` (S): `tagged()`
   * queries it instead of scanning the whole table.
   */
  userIndexName?: string
}

/**
 * Config of the database (Lucid) store.
 */
export interface DatabaseStoreConfig {
  /** A connection name from `config/database.ts`; the default connection when unset. */
  connectionName?: string
  /** The sessions table; `sessions` by default. */
  tableName?: string
  /** Percent chance that a request deletes expired rows. 0 turns it off. */
  gcProbability?: number
}
