import type { HttpContext } from '@adonisjs/core/http'
import type { CookieOptions } from '@adonisjs/core/types/http'
import debug, { debugSecrets } from './debug.js'
import { privateCacheControl } from './cache_control.js'
import type { KeyRing } from './key_ring.js'
import { randomBase64Url } from './random_text.js'
import { E_SESSION_INVALID_ID } from './errors.js'
import { ByteBudgetCache, stringBytes } from './byte_budget_cache.js'

/**
 * Browsers cap cookie lifetimes at 400 days (RFC 6265bis).
 */
export const MAX_COOKIE_AGE_SECONDS = 400 * 24 * 60 * 60

/**
 * Browsers drop cookies whose name and value exceed 4096 bytes.
 */
export const MAX_COOKIE_BYTES = 4096

const ID_BYTES = 18

/**
 * A new session id: 144 bits from the CSPRNG as 24 URL-safe characters
 * (the length of @adonisjs/session 7.x ids).
 */
export function generateSessionId(): string {
  return randomBase64Url(ID_BYTES)
}

/**
 * The only characters session ids of either package use. Anything else never
 * reaches a store.
 */
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/

/**
 * True for a string shaped like a session id (checked before every store call).
 */
export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value)
}

/**
 * Throw E_SESSION_INVALID_ID (400) unless `value` is shaped like a session
 * id; `method` names the API call in the message (never the value).
 */
export function assertSessionId(value: unknown, method: string): asserts value is string {
  if (!isValidSessionId(value)) {
    throw new E_SESSION_INVALID_ID([method])
  }
}

/**
 * The raw value of one cookie in a Cookie header, URL-decoded, without parsing
 * the other cookies.
 */
export function readRawCookie(header: string | undefined, name: string): string | undefined {
  if (!header) {
    return undefined
  }
  let start = 0
  while (start < header.length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    const pair = header.slice(start, end).trim()
    const equals = pair.indexOf('=')
    if (equals !== -1 && pair.slice(0, equals).trim() === name) {
      let value = pair.slice(equals + 1).trim()
      if (value.startsWith('"') && value.endsWith('"') && value.length > 1) {
        value = value.slice(1, -1)
      }
      return decodeCookieValue(value)
    }
    start = end + 1
  }
  return undefined
}

/**
 * A URL-decoded cookie value. Signed and sealed values (`s%3A…`, `e%3A…`,
 * whose only escape is the colon) skip the general decoder.
 */
function decodeCookieValue(value: string): string | undefined {
  if (!value.includes('%')) {
    return value
  }
  if (value.startsWith('%3A', 1) && value.indexOf('%', 4) === -1) {
    return `${value[0]}:${value.slice(4)}`
  }
  try {
    return decodeURIComponent(value)
  } catch {
    return undefined
  }
}

/**
 * A cookie value URL-encoded for a Set-Cookie line. Values made by the key
 * ring (`s:` or `e:` then base64url and dots) only need their colon escaped.
 */
function encodeCookieValue(value: string): string {
  if (value[1] === ':' && (value[0] === 's' || value[0] === 'e')) {
    return `${value[0]}%3A${value.slice(2)}`
  }
  return encodeURIComponent(value)
}

/**
 * The attribute part of a Set-Cookie header, computed once from the options.
 */
function attributes(options: Partial<CookieOptions>, maxAge: number | undefined): string {
  let result = ''
  if (maxAge !== undefined) result += `; Max-Age=${maxAge}`
  if (options.domain) result += `; Domain=${options.domain}`
  result += `; Path=${options.path ?? '/'}`
  if (options.httpOnly !== false) result += '; HttpOnly'
  if (options.secure) result += '; Secure'
  if (options.partitioned) result += '; Partitioned'
  if (options.sameSite !== false && options.sameSite !== undefined) {
    const sameSite = options.sameSite === true ? 'strict' : String(options.sameSite).toLowerCase()
    result += `; SameSite=${sameSite[0].toUpperCase()}${sameSite.slice(1)}`
  }
  if (options.priority) {
    const priority = String(options.priority).toLowerCase()
    result += `; Priority=${priority[0].toUpperCase()}${priority.slice(1)}`
  }
  return result
}

/**
 * The bytes the verified id cookies `SessionCookies` remembers may take by
 * default: 4 MiB, about 10,000 cookies of the usual 110 characters.
 */
export const VERIFIED_IDS_BYTES = 4 * 1024 * 1024

/**
 * How long an unchanged session cookie goes without being sent again. Its
 * expiry is pushed forward at most this often, not on every response.
 */
const REISSUE_AFTER_MS = 60_000

/**
 * True when a cookie whose value seals `expiresAt` should be sent again with a
 * fresh expiry: it lags more than a minute (half the age when shorter) behind
 * one issued now. Used for the id cookie and the cookie store's data cookie.
 */
export function isDueForReissue(expiresAt: number | undefined, maxAgeMs: number): boolean {
  if (expiresAt === undefined) {
    return true
  }
  return Date.now() + maxAgeMs - expiresAt >= Math.min(REISSUE_AFTER_MS, maxAgeMs / 2)
}

/**
 * A verified id cookie of a request.
 */
export interface SessionIdCookie {
  id: string
  /** The cookie value as the browser sent it (URL-decoded). */
  raw: string
  /** Signed by a previous key: send it again with the current one. */
  stale: boolean
  /** When the browser drops its copy (epoch ms), sealed inside the value. */
  expiresAt?: number
}

/**
 * Bytes of heap a remembered id cookie takes: its raw value, its id and the
 * object holding them.
 */
function idCookieBytes(cookie: SessionIdCookie): number {
  return stringBytes(cookie.raw) + stringBytes(cookie.id) + 64
}

/**
 * Reads and writes the session cookies: the signed id cookie and, for the cookie
 * store, encrypted data cookies. Attributes are computed once at boot, so a
 * Set-Cookie costs one string concatenation.
 */
export class SessionCookies {
  #cookieName: string
  #keyRing: KeyRing
  /**
   * Id cookies verified recently (raw value → id). Verification is a pure
   * function of the value and the keys, so a hit skips the HMAC and the JSON
   * parse of a returning visitor's cookie. Within a byte budget, least
   * recently used forgotten first.
   */
  #verifiedIds: ByteBudgetCache<string, SessionIdCookie>
  #persistentSuffix: string
  #clearSuffix: string
  #maxAgeMs: number | undefined

  /**
   * @param cache.cacheBytes the most the remembered verified id cookies may
   *   take, in bytes (4 MiB by default; 0 verifies every cookie)
   */
  constructor(
    cookieName: string,
    options: Partial<CookieOptions>,
    maxAge: number | undefined,
    keyRing: KeyRing,
    cache: { cacheBytes?: number } = {}
  ) {
    this.#verifiedIds = new ByteBudgetCache(cache.cacheBytes ?? VERIFIED_IDS_BYTES, idCookieBytes)
    this.#cookieName = cookieName
    this.#keyRing = keyRing
    this.#maxAgeMs = maxAge === undefined ? undefined : maxAge * 1000
    this.#persistentSuffix = attributes(options, maxAge)
    this.#clearSuffix = `${attributes(options, 0)}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`
  }

  /** The name of the id cookie. */
  get cookieName(): string {
    return this.#cookieName
  }

  /** The bytes the remembered verified id cookies take now (estimated). */
  get cachedBytes(): number {
    return this.#verifiedIds.bytes
  }

  /** The key ring that signs and encrypts the cookies. */
  get keyRing(): KeyRing {
    return this.#keyRing
  }

  /**
   * The session id from the id cookie: null when missing, unsigned, tampered,
   * expired, signed by an unknown key or not shaped like an id.
   */
  readSessionId(ctx: HttpContext): SessionIdCookie | null {
    const raw = readRawCookie(ctx.request.header('cookie'), this.#cookieName)
    if (!raw) {
      return null
    }
    if (raw.length > MAX_COOKIE_BYTES) {
      debugSecrets(`ignoring session cookie %s: ${raw.length} bytes is too long`, raw)
      return null
    }
    const known = this.#verifiedIds.get(raw)
    if (known && (known.expiresAt === undefined || known.expiresAt > Date.now())) {
      return known
    }
    this.#verifiedIds.delete(raw)
    const verified = this.#keyRing.unsign<string>(raw, this.#cookieName)
    if (!verified || !isValidSessionId(verified.value)) {
      debugSecrets('ignoring session cookie %s: not signed by a known key or not an id', raw)
      return null
    }
    const cookie = {
      id: verified.value,
      raw,
      stale: verified.stale,
      expiresAt: verified.expiresAt,
    }
    this.#verifiedIds.set(raw, cookie)
    return cookie
  }

  /**
   * True when the browser's copy of an unchanged id cookie should be sent
   * again: signed by an old key, or its expiry lags more than a minute (half
   * the age when shorter) behind a fresh one. A cookie that lives until the
   * browser closes (`clearWithBrowser`) is never re-sent unchanged.
   */
  needsReissue(cookie: SessionIdCookie): boolean {
    if (cookie.stale) {
      return true
    }
    const maxAgeMs = this.#maxAgeMs
    if (maxAgeMs === undefined) {
      return cookie.expiresAt !== undefined
    }
    return isDueForReissue(cookie.expiresAt, maxAgeMs)
  }

  /**
   * Send the id cookie, signed with the expiry its `Max-Age` gives it, so a
   * later request knows when the browser drops it (and a copy kept past that
   * is refused).
   */
  writeSessionId(ctx: HttpContext, sessionId: string): void {
    const maxAgeMs = this.#maxAgeMs
    const expiresAt = maxAgeMs === undefined ? undefined : new Date(Date.now() + maxAgeMs)
    this.append(ctx, this.#cookieName, this.#keyRing.sign(sessionId, this.#cookieName, expiresAt))
  }

  /**
   * Keep the response of a request with a session out of shared caches, as
   * if it had set the cookie, unless the app chose a Cache-Control itself.
   */
  markPrivate(ctx: HttpContext): void {
    if (ctx.response.getHeader('cache-control') === undefined) {
      ctx.response.header('cache-control', 'private')
    }
  }

  /**
   * Keep a response that sets a session cookie out of shared caches: no
   * Cache-Control gives `private`, a shared-cacheable one the app chose
   * (`public`, `s-maxage`) is made private (see privateCacheControl).
   */
  #keepOutOfSharedCaches(ctx: HttpContext): void {
    const chosen = ctx.response.getHeader('cache-control')
    if (chosen === undefined) {
      ctx.response.header('cache-control', 'private')
      return
    }
    const value = [chosen].flat().join(', ')
    const made = privateCacheControl(value)
    if (made !== value) {
      debug('the response sets the session cookie: Cache-Control "%s" made "%s"', value, made)
      ctx.response.header('cache-control', made)
    }
  }

  /** Tell the browser to drop the id cookie. */
  clearSessionId(ctx: HttpContext): void {
    this.clear(ctx, this.#cookieName)
  }

  /** The raw value of a cookie of the request. */
  read(ctx: HttpContext, name: string): string | undefined {
    return readRawCookie(ctx.request.header('cookie'), name)
  }

  /** The Set-Cookie header line for a value with the session's attributes. */
  serialize(name: string, value: string): string {
    return `${name}=${encodeCookieValue(value)}${this.#persistentSuffix}`
  }

  /** Set a cookie of the response to a value. */
  append(ctx: HttpContext, name: string, value: string): void {
    this.setHeaderLine(ctx, name, this.serialize(name, value))
  }

  /** Tell the browser to drop a cookie: empty value, Max-Age=0, the same Path and Domain. */
  clear(ctx: HttpContext, name: string): void {
    this.setHeaderLine(ctx, name, `${name}=${this.#clearSuffix}`)
  }

  /**
   * Put a Set-Cookie line in the response, replacing an earlier line for the
   * same cookie (never two lines for one name), and keep the response out of
   * shared caches, also when the app marked it public.
   */
  setHeaderLine(ctx: HttpContext, name: string, line: string): void {
    const response = ctx.response
    const existing = response.getHeader('set-cookie')
    if (existing === undefined) {
      response.header('set-cookie', line)
    } else {
      const prefix = `${name}=`
      const lines: string[] = []
      for (const item of Array.isArray(existing) ? existing : [existing]) {
        const text = String(item)
        if (!text.startsWith(prefix)) lines.push(text)
      }
      lines.push(line)
      response.header('set-cookie', lines)
    }
    this.#keepOutOfSharedCaches(ctx)
  }
}
