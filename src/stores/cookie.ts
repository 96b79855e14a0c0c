import type { HttpContext } from '@adonisjs/core/http'
import { debugSecrets } from '../debug.js'
import { E_SESSION_COOKIE_TOO_LARGE, E_SESSION_STORE_NEEDS_REQUEST } from '../errors.js'
import { METADATA_KEY } from '../payload.js'
import { isDueForReissue, MAX_COOKIE_BYTES, type SessionCookies } from '../session_cookies.js'
import type { SessionData, SessionStoreCapabilities, SessionStoreContract } from '../types.js'

/**
 * Keeps the session data in an encrypted, authenticated cookie named after the
 * session id (the format of @adonisjs/session). The idle expiry is sealed inside
 * the encrypted value, so a replayed old cookie cannot revive a session. The
 * metadata is sealed beside the message, where @adonisjs/session does not
 * look (inside the data only when the app's encrypter leaves no room);
 * cookies with it inside the data are still read.
 * Cannot list or end sessions, and cannot merge parallel updates.
 */
export class CookieStore implements SessionStoreContract, SessionStoreCapabilities {
  /** Responses that write data send the id cookie with it. */
  readonly keepsDataInCookies = true

  #ctx: HttpContext
  #cookies: SessionCookies
  #ageMs: number
  #readExpiresAt: number | undefined
  #readWithOldKey = false
  #readData: SessionData | null = null

  constructor(ctx: HttpContext | undefined, cookies: SessionCookies, ageInSeconds: number) {
    if (!ctx) {
      throw new E_SESSION_STORE_NEEDS_REQUEST()
    }
    this.#ctx = ctx
    this.#cookies = cookies
    this.#ageMs = ageInSeconds * 1000
  }

  /** Decrypt the data cookie of the session; null when missing, tampered or expired. */
  read(sessionId: string): SessionData | null {
    const raw = this.#cookies.read(this.#ctx, sessionId)
    if (!raw) {
      return null
    }
    const verified =
      raw.length > MAX_COOKIE_BYTES
        ? null
        : this.#cookies.keyRing.decrypt<SessionData>(raw, sessionId)
    if (!verified || typeof verified.value !== 'object' || Array.isArray(verified.value)) {
      debugSecrets(
        'ignoring data cookie %s of session %s: tampered, expired or by an unknown key',
        raw,
        sessionId
      )
      return null
    }
    const data = verified.value
    const metadata = verified.meta
    if (metadata && typeof metadata === 'object' && !Array.isArray(metadata)) {
      data[METADATA_KEY] = metadata as SessionData[string]
    }
    this.#readExpiresAt = verified.expiresAt
    this.#readWithOldKey = verified.stale
    this.#readData = data
    return data
  }

  /** Encrypt the data into the cookie; fails when the cookie would exceed 4096 bytes. */
  write(sessionId: string, data: SessionData): void {
    const expiresAt = new Date(Date.now() + this.#ageMs)
    const keyRing = this.#cookies.keyRing
    let sealed: string
    if (keyRing.sealsBesideMessage && data[METADATA_KEY] !== undefined) {
      const { [METADATA_KEY]: metadata, ...values } = data
      sealed = keyRing.encrypt(values, sessionId, expiresAt, metadata)
    } else {
      sealed = keyRing.encrypt(data, sessionId, expiresAt)
    }
    const header = this.#cookies.serialize(sessionId, sealed)
    const size = header.indexOf(';') === -1 ? header.length : header.indexOf(';')
    if (size > MAX_COOKIE_BYTES) {
      throw new E_SESSION_COOKIE_TOO_LARGE([size, MAX_COOKIE_BYTES])
    }
    this.#cookies.setHeaderLine(this.#ctx, sessionId, header)
  }

  /** Clear the data cookie when the request carried one. */
  destroy(sessionId: string): void {
    if (this.#cookies.read(this.#ctx, sessionId) !== undefined) {
      this.#cookies.clear(this.#ctx, sessionId)
    }
  }

  /**
   * Re-encrypt with a fresh expiry, at most once a minute (or half the age when
   * that is shorter; at once when an old key made the cookie), so idle requests
   * stay cheap.
   */
  touch(sessionId: string): void {
    if (!this.#readData) {
      return
    }
    if (this.#readWithOldKey || isDueForReissue(this.#readExpiresAt, this.#ageMs)) {
      this.write(sessionId, this.#readData)
    }
  }
}
