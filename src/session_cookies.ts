import type { HttpContext } from '@adonisjs/core/http'
import type { CookieOptions } from '@adonisjs/core/types/http'
import { randomFillSync } from 'node:crypto'
import { debugSecrets } from './debug.js'
import type { KeyRing } from './key_ring.js'

/**
 * Browsers cap cookie lifetimes at 400 days (RFC 6265bis).
 */
export const MAX_COOKIE_AGE_SECONDS = 400 * 24 * 60 * 60

/**
 * Browsers drop cookies whose name and value exceed 4096 bytes.
 */
export const MAX_COOKIE_BYTES = 4096

const ID_BYTES = 18
const POOL_SIZE = ID_BYTES * 512
const pool = Buffer.allocUnsafe(POOL_SIZE)
let poolOffset = POOL_SIZE

/**
 * A new session id: 144 bits from the CSPRNG as 24 URL-safe characters
 * (the length of @adonisjs/session 7.x ids). Random bytes are drawn in batches.
 */
export function generateSessionId(): string {
  if (poolOffset + ID_BYTES > POOL_SIZE) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + ID_BYTES)
  poolOffset += ID_BYTES
  return id
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
      try {
        return value.includes('%') ? decodeURIComponent(value) : value
      } catch {
        return undefined
      }
    }
    start = end + 1
  }
  return undefined
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
 * How many verified id cookies `SessionCookies` remembers.
 */
const VERIFIED_IDS_LIMIT = 10_000

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
   * parse of a returning visitor's cookie. Bounded: cleared when full.
   */
  #verifiedIds = new Map<string, { id: string; stale: boolean }>()
  #persistentSuffix: string
  #clearSuffix: string

  constructor(
    cookieName: string,
    options: Partial<CookieOptions>,
    maxAge: number | undefined,
    keyRing: KeyRing
  ) {
    this.#cookieName = cookieName
    this.#keyRing = keyRing
    this.#persistentSuffix = attributes(options, maxAge)
    this.#clearSuffix = `${attributes(options, 0)}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`
  }

  /** The key ring that signs and encrypts the cookies. */
  get keyRing(): KeyRing {
    return this.#keyRing
  }

  /**
   * The session id from the id cookie: null when missing, unsigned, tampered,
   * signed by an unknown key or not shaped like an id. `raw` is the cookie value,
   * reusable as is when `stale` is false.
   */
  readSessionId(ctx: HttpContext): { id: string; raw: string; stale: boolean } | null {
    const raw = readRawCookie(ctx.request.header('cookie'), this.#cookieName)
    if (!raw) {
      return null
    }
    if (raw.length > MAX_COOKIE_BYTES) {
      debugSecrets(`ignoring session cookie %s: ${raw.length} bytes is too long`, raw)
      return null
    }
    const known = this.#verifiedIds.get(raw)
    if (known) {
      return { id: known.id, raw, stale: known.stale }
    }
    const verified = this.#keyRing.unsign<string>(raw, this.#cookieName)
    if (!verified || !isValidSessionId(verified.value)) {
      debugSecrets('ignoring session cookie %s: not signed by a known key or not an id', raw)
      return null
    }
    if (this.#verifiedIds.size >= VERIFIED_IDS_LIMIT) {
      this.#verifiedIds.clear()
    }
    this.#verifiedIds.set(raw, { id: verified.value, stale: verified.stale })
    return { id: verified.value, raw, stale: verified.stale }
  }

  /** Send the id cookie; `signedValue` is the already signed value to reuse. */
  writeSessionId(ctx: HttpContext, sessionId: string, signedValue?: string): void {
    const value = signedValue ?? this.#keyRing.sign(sessionId, this.#cookieName)
    this.append(ctx, this.#cookieName, value)
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
    return `${name}=${encodeURIComponent(value)}${this.#persistentSuffix}`
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
   * shared caches unless the app chose a Cache-Control itself.
   */
  setHeaderLine(ctx: HttpContext, name: string, line: string): void {
    const response = ctx.response
    const existing = response.getHeader('set-cookie')
    if (existing === undefined) {
      response.header('set-cookie', line)
    } else {
      const prefix = `${name}=`
      const lines = [existing].flat().map(String)
      response.header('set-cookie', [...lines.filter((item) => !item.startsWith(prefix)), line])
    }
    if (response.getHeader('cache-control') === undefined) {
      response.header('cache-control', 'private')
    }
  }
}
