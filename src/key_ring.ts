import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  type KeyObject,
  createHmac,
  timingSafeEqual,
} from 'node:crypto'
import {
  ByteBudgetCache,
  decodedJsonBytes,
  DEFAULT_CACHE_BYTES,
  stringBytes,
} from './byte_budget_cache.js'
import type { AppEncrypter } from './framework.js'
import { copyOfJsonValue, parseJson } from './payload.js'
import { randomBase64Url } from './random_text.js'

/**
 * One secret with the keys AdonisJS derives from it, computed once.
 */
interface DerivedKey {
  cryptoKey: Buffer
  /** The same key as a KeyObject: HMACs with it skip re-importing the key. */
  hmacKey: KeyObject
}

/**
 * The outcome of verifying a value: what it held and whether a key other than
 * the newest made it (then it should be re-issued).
 */
export interface VerifiedValue<T> {
  value: T
  stale: boolean
  /** The expiry sealed inside the value (epoch ms), when it has one. */
  expiresAt?: number
}

/**
 * A value decrypted before: its plain text, the key that made it, and from
 * its second decryption on the message it unwrapped to (never handed out:
 * callers get copies).
 */
interface OpenedValue {
  sealed: string
  plain: string
  keyIndex: number
  unwrapped?: { message: unknown; purpose: unknown; expiresAt?: number }
}

function openedValueBytes(opened: OpenedValue): number {
  return (
    stringBytes(opened.sealed) +
    stringBytes(opened.plain) +
    (opened.unwrapped ? decodedJsonBytes(opened.plain) : 0)
  )
}

/**
 * The signed message format of AdonisJS: `{ message, purpose, expiryDate? }`.
 */
interface SignedMessage {
  message: unknown
  purpose?: string
  expiryDate?: string
}

function hmac(key: KeyObject, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url')
}

/**
 * Constant-time comparison of two strings: byte lengths first (a string of the
 * right length can hold multi-byte characters), then timingSafeEqual.
 */
function safeEqual(expected: string, given: string): boolean {
  const expectedBytes = Buffer.from(expected)
  const givenBytes = Buffer.from(given)
  return expectedBytes.length === givenBytes.length && timingSafeEqual(expectedBytes, givenBytes)
}

/**
 * Check purpose and expiry of a decoded message, as AdonisJS does.
 */
function unwrap(decoded: string, purpose: string): { message: unknown; expiresAt?: number } | null {
  const parsed = parseJson(decoded) as SignedMessage | null
  if (!parsed || typeof parsed !== 'object' || !parsed.message) {
    return null
  }
  return checked(parsed.message, parsed.purpose, expiryOf(parsed.expiryDate), purpose)
}

/**
 * The expiry of a message in epoch ms: undefined when it has none, NaN when
 * it is not a date.
 */
function expiryOf(expiryDate: unknown): number | undefined {
  if (expiryDate === undefined || expiryDate === null) {
    return undefined
  }
  return new Date(expiryDate as string).getTime()
}

/**
 * A message when its purpose is the one asked for and its expiry has not passed.
 */
function checked(
  message: unknown,
  messagePurpose: unknown,
  expiresAt: number | undefined,
  purpose: string
): { message: unknown; expiresAt?: number } | null {
  if (messagePurpose !== purpose) {
    return null
  }
  if (expiresAt === undefined) {
    return { message }
  }
  if (Number.isNaN(expiresAt) || expiresAt < Date.now()) {
    return null
  }
  return { message, expiresAt }
}

/**
 * How many expiries of values sealed with the app's encrypter are remembered.
 */
const SEALED_EXPIRIES_LIMIT = 2000

/**
 * Signs and encrypts cookie values in the exact formats of AdonisJS
 * (`s:` signed and `e:` encrypted cookies), with a list of keys: the first signs,
 * every key verifies, so app keys can rotate without logging anyone out.
 *
 * Given the app's encrypter for a key (AdonisJS 7), it seals with the newest
 * key the way the framework seals its encrypted cookies (`gcm` in new apps),
 * opens with every key, and still opens the legacy AES-256-CBC values of
 * AdonisJS 6, reporting them stale so they are re-sealed.
 */
export class KeyRing {
  #keys: DerivedKey[]
  /** The app's encrypter for each key, in the order of the keys (AdonisJS 7). */
  #encrypters: AppEncrypter[] | undefined
  /** Recently decrypted values (sealed → plain text), within a byte budget. */
  #opened: ByteBudgetCache<string, OpenedValue>
  /**
   * The expiry of values this process sealed with the app's encrypter (which
   * does not reveal it when opening): a known expiry spares a re-issue.
   */
  #sealedExpiries = new Map<string, number>()

  /**
   * @param secrets the keys, the newest (which seals) first
   * @param options.cacheBytes the most the remembered decrypted values may
   *   take, in bytes (16 MiB by default; 0 decrypts every time)
   * @param options.encrypterFor the app's default encrypter for one key
   *   (AdonisJS 7): seals and opens `e:` values in the framework's format
   */
  constructor(
    secrets: string[],
    options: { cacheBytes?: number; encrypterFor?: (key: string) => AppEncrypter } = {}
  ) {
    this.#opened = new ByteBudgetCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES, openedValueBytes)
    this.#keys = secrets.map((secret) => {
      const cryptoKey = createHash('sha256').update(secret).digest()
      return { cryptoKey, hmacKey: createSecretKey(cryptoKey) }
    })
    const encrypterFor = options.encrypterFor
    this.#encrypters = encrypterFor && secrets.map((secret) => encrypterFor(secret))
  }

  /** The bytes the remembered decrypted values take now (estimated). */
  get cachedBytes(): number {
    return this.#opened.bytes
  }

  /**
   * Sign a value for a purpose, optionally with an expiry date sealed inside:
   * `s:<payload>.<hmac>`.
   */
  sign(value: unknown, purpose: string, expiresAt?: Date): string {
    const message = expiresAt
      ? { message: value, purpose, expiryDate: expiresAt }
      : { message: value, purpose }
    const encoded = Buffer.from(JSON.stringify(message)).toString('base64url')
    return `s:${encoded}.${hmac(this.#keys[0].hmacKey, encoded)}`
  }

  /** Verify a signed value; null when it is not signed by any known key. */
  unsign<T = unknown>(signed: string, purpose: string): VerifiedValue<T> | null {
    if (typeof signed !== 'string' || !signed.startsWith('s:')) {
      return null
    }
    const parts = signed.slice(2).split('.')
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      return null
    }
    const [encoded, signature] = parts
    const index = this.#keys.findIndex((key) => safeEqual(hmac(key.hmacKey, encoded), signature))
    if (index === -1) {
      return null
    }
    const unwrapped = unwrap(Buffer.from(encoded, 'base64url').toString('utf8'), purpose)
    if (!unwrapped) {
      return null
    }
    const verified: VerifiedValue<T> = { value: unwrapped.message as T, stale: index !== 0 }
    if (unwrapped.expiresAt !== undefined) {
      verified.expiresAt = unwrapped.expiresAt
    }
    return verified
  }

  /**
   * Encrypt a value for a purpose (AES-256-CBC, then HMAC over ciphertext and IV),
   * optionally with an expiry date sealed inside: `e:<cipher>.<iv>.<hmac>`.
   */
  encrypt(value: unknown, purpose: string, expiresAt?: Date): string {
    if (this.#encrypters) {
      return this.#seal(this.#encrypters[0], value, purpose, expiresAt)
    }
    const { cryptoKey, hmacKey } = this.#keys[0]
    const iv = randomBase64Url(12)
    const cipher = createCipheriv('aes-256-cbc', cryptoKey, iv)
    const plain = JSON.stringify({ message: value, purpose, expiryDate: expiresAt })
    const encrypted = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    const body = `${encrypted.toString('base64url')}.${Buffer.from(iv).toString('base64url')}`
    return `e:${body}.${hmac(hmacKey, body)}`
  }

  /**
   * Decrypt a value; null when tampered, expired, for another purpose or by an
   * unknown key. Purpose and expiry are checked on every call; the HMAC and the
   * decryption of a value seen recently are not repeated, and from its third
   * decryption on its message is copied from the one unwrapped before instead
   * of parsed again.
   */
  decrypt<T = unknown>(sealed: string, purpose: string): VerifiedValue<T> | null {
    if (this.#encrypters) {
      const value = this.#unseal<T>(this.#encrypters, sealed, purpose)
      if (value) {
        return value
      }
    }
    const remembered = this.#opened.get(sealed)
    const opened = remembered ?? this.#open(sealed)
    if (!opened) {
      return null
    }
    let unwrapped: { message: unknown; expiresAt?: number } | null
    if (opened.unwrapped) {
      const { message, purpose: messagePurpose, expiresAt } = opened.unwrapped
      unwrapped = checked(message, messagePurpose, expiresAt, purpose)
      if (unwrapped) {
        unwrapped.message = copyOfJsonValue(unwrapped.message)
      }
    } else {
      unwrapped = unwrap(opened.plain, purpose)
      if (unwrapped && remembered) {
        opened.unwrapped = { ...unwrapped, purpose }
        this.#opened.resize(sealed)
        unwrapped = { ...unwrapped, message: copyOfJsonValue(unwrapped.message) }
      }
    }
    return (
      unwrapped && {
        value: unwrapped.message as T,
        stale: opened.keyIndex !== 0 || this.#encrypters !== undefined,
        expiresAt: unwrapped.expiresAt,
      }
    )
  }

  /** Seal with the app's encrypter: `e:` and its output, the expiry inside. */
  #seal(encrypter: AppEncrypter, value: unknown, purpose: string, expiresAt?: Date): string {
    const expiresInMs = expiresAt ? Math.max(1, expiresAt.getTime() - Date.now()) : undefined
    const sealed = `e:${encrypter.encrypt(value, expiresInMs, purpose)}`
    if (expiresAt) {
      if (this.#sealedExpiries.size >= SEALED_EXPIRIES_LIMIT) {
        this.#sealedExpiries.clear()
      }
      this.#sealedExpiries.set(sealed, expiresAt.getTime())
    }
    return sealed
  }

  /**
   * Open a value sealed by the app's encrypter with any of the keys, stale
   * when not with the newest; null when no key opens it.
   */
  #unseal<T>(encrypters: AppEncrypter[], sealed: string, purpose: string): VerifiedValue<T> | null {
    if (typeof sealed !== 'string' || !sealed.startsWith('e:')) {
      return null
    }
    for (const [index, encrypter] of encrypters.entries()) {
      const value = encrypter.decrypt<T>(sealed.slice(2), purpose)
      if (value !== null && value !== undefined) {
        const stale = index !== 0
        return { value, stale, expiresAt: stale ? undefined : this.#sealedExpiries.get(sealed) }
      }
    }
    return null
  }

  /** Verify and decrypt a sealed value, remembering the plain text. */
  #open(sealed: string): OpenedValue | null {
    if (typeof sealed !== 'string' || !sealed.startsWith('e:')) {
      return null
    }
    const parts = sealed.slice(2).split('.')
    if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) {
      return null
    }
    const body = `${parts[0]}.${parts[1]}`
    const keyIndex = this.#keys.findIndex((key) => safeEqual(hmac(key.hmacKey, body), parts[2]))
    if (keyIndex === -1) {
      return null
    }
    try {
      const iv = Buffer.from(parts[1], 'base64url')
      const decipher = createDecipheriv('aes-256-cbc', this.#keys[keyIndex].cryptoKey, iv)
      const plain =
        decipher.update(Buffer.from(parts[0], 'base64url')).toString('utf8') +
        decipher.final('utf8')
      const opened = { sealed, plain, keyIndex }
      this.#opened.set(sealed, opened)
      return opened
    } catch {
      return null
    }
  }
}
