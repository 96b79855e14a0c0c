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
import { GcmSeal } from './gcm_seal.js'
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
  /** What was sealed beside the message (`meta` of the envelope), when anything was. */
  meta?: unknown
}

/**
 * A message that passed its purpose and expiry checks, with what was sealed
 * beside it.
 */
interface Unwrapped {
  message: unknown
  expiresAt?: number
  meta?: unknown
}

/**
 * A value decrypted before: its plain text, the key that made it, the format
 * it was sealed in (a gcm value is bound to the purpose it was opened for),
 * and from its second decryption on the message it unwrapped to (never handed
 * out: callers get copies).
 */
interface OpenedValue {
  sealed: string
  plain: string
  keyIndex: number
  format: SealFormat
  gcmPurpose?: string
  unwrapped?: Unwrapped & { purpose: unknown }
}

/**
 * How data cookies are sealed: AES-256-CBC with the message envelope inside
 * (AdonisJS 6, and the `legacy` encrypter of 7), AES-256-GCM in the `v1` format
 * of the `gcm` encrypter of AdonisJS 7, or by the app's encrypter itself
 * (any other driver), which leaves no room beside `message`.
 */
type SealFormat = 'cbc' | 'gcm' | 'encrypter'

function openedValueBytes(opened: OpenedValue): number {
  return (
    stringBytes(opened.sealed) +
    stringBytes(opened.plain) +
    (opened.unwrapped ? decodedJsonBytes(opened.plain) : 0)
  )
}

/**
 * The signed message format of AdonisJS: `{ message, purpose, expiryDate? }`,
 * plus what this package seals beside the message (`meta`).
 */
interface SignedMessage {
  message: unknown
  purpose?: string
  expiryDate?: string
  meta?: unknown
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
 * Check purpose and expiry of a decoded message, as AdonisJS does. A gcm
 * value carries its purpose outside the plain text (`gcmPurpose`, checked by
 * the decryption), so its plain text must hold none.
 */
function unwrap(decoded: string, purpose: string, gcmPurpose?: string): Unwrapped | null {
  const parsed = parseJson(decoded) as SignedMessage | null
  if (!parsed || typeof parsed !== 'object' || !parsed.message) {
    return null
  }
  const messagePurpose =
    gcmPurpose === undefined ? parsed.purpose : parsed.purpose === undefined ? gcmPurpose : null
  const unwrapped = checked(parsed.message, messagePurpose, expiryOf(parsed.expiryDate), purpose)
  if (unwrapped && parsed.meta !== undefined) {
    unwrapped.meta = parsed.meta
  }
  return unwrapped
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
): Unwrapped | null {
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

/** The message and purpose of the values that test the app's encrypter. */
const PROBE = 'adonis-satchel-probe'

/**
 * True when the app's encrypter opens `sealed` (made for the purpose `PROBE`)
 * to the probe message.
 */
function opensProbe(encrypter: AppEncrypter, sealed: string): boolean {
  try {
    return encrypter.decrypt(sealed, PROBE) === PROBE
  } catch {
    return false
  }
}

/**
 * A GcmSeal for the app's encrypter when it is a `gcm` encrypter: its id read
 * from a value it seals, then proven by the encrypter opening a probe sealed
 * here with a `meta` beside the message. Undefined for any other driver.
 */
function gcmSealOf(encrypter: AppEncrypter, secrets: string[]): GcmSeal | undefined {
  const parts = encrypter.encrypt(PROBE, undefined, PROBE).split('.')
  if (parts.length !== 4 || !parts[0]) {
    return undefined
  }
  const seal = new GcmSeal(parts[0], secrets)
  const probe = seal.seal(JSON.stringify({ message: PROBE, meta: PROBE }), PROBE)
  return opensProbe(encrypter, probe) ? seal : undefined
}

/**
 * Signs and encrypts cookie values in the exact formats of AdonisJS
 * (`s:` signed and `e:` encrypted cookies), with a list of keys: the first signs,
 * every key verifies, so app keys can rotate without logging anyone out.
 *
 * Given the app's encrypter for each key (AdonisJS 7), it seals what those
 * encrypters open, as the framework seals its encrypted cookies: the `gcm`
 * format of new apps and the legacy AES-256-CBC format are sealed here with
 * the newest key, with room beside the message; any other driver seals through
 * the newest key's encrypter. Every key opens; a value of an older key, or of
 * AdonisJS 6 where the app seals another format, is reported stale so it is
 * re-sealed.
 */
export class KeyRing {
  #keys: DerivedKey[]
  /** The app's encrypter for each key, in the order of the keys (AdonisJS 7). */
  #encrypters: AppEncrypter[] | undefined
  #gcm: GcmSeal | undefined
  #format: SealFormat
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
    this.#gcm = this.#encrypters && gcmSealOf(this.#encrypters[0], secrets)
    this.#format = this.#formatFor(this.#encrypters?.[0])
  }

  /** The format this ring seals in for the app's encrypter (cbc without one). */
  #formatFor(encrypter: AppEncrypter | undefined): SealFormat {
    if (this.#gcm) {
      return 'gcm'
    }
    if (!encrypter) {
      return 'cbc'
    }
    const probe = this.#sealCbc(PROBE, PROBE, undefined, PROBE).slice(2)
    return opensProbe(encrypter, probe) ? 'cbc' : 'encrypter'
  }

  /**
   * True when `encrypt()` seals its `meta` beside the message, where the
   * framework's decryption (and so @adonisjs/session) never looks; false when
   * the app's encrypter builds the plain text itself.
   */
  get sealsBesideMessage(): boolean {
    return this.#format !== 'encrypter'
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
   * Encrypt a value for a purpose, optionally with an expiry date sealed
   * inside, and `meta` beside the message when `sealsBesideMessage` (the
   * app's encrypter otherwise builds the plain text, without it). Without an
   * encrypter: AES-256-CBC, then HMAC over ciphertext and IV,
   * `e:<cipher>.<iv>.<hmac>`.
   */
  encrypt(value: unknown, purpose: string, expiresAt?: Date, meta?: unknown): string {
    if (this.#gcm) {
      const plain = JSON.stringify({ message: value, expiryDate: expiresAt, meta })
      return `e:${this.#gcm.seal(plain, purpose)}`
    }
    if (this.#format === 'encrypter') {
      return this.#seal(this.#encrypters![0], value, purpose, expiresAt)
    }
    return this.#sealCbc(value, purpose, expiresAt, meta)
  }

  /** Seal in the legacy AES-256-CBC format with the newest key. */
  #sealCbc(value: unknown, purpose: string, expiresAt: Date | undefined, meta: unknown): string {
    const { cryptoKey, hmacKey } = this.#keys[0]
    const iv = randomBase64Url(12)
    const cipher = createCipheriv('aes-256-cbc', cryptoKey, iv)
    const plain = JSON.stringify({ message: value, purpose, expiryDate: expiresAt, meta })
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
    const remembered = this.#opened.get(sealed)
    const opened = remembered ?? this.#open(sealed, purpose)
    if (!opened) {
      return this.#encrypters ? this.#unseal<T>(this.#encrypters, sealed, purpose) : null
    }
    let unwrapped: Unwrapped | null
    if (opened.unwrapped) {
      const { message, purpose: messagePurpose, expiresAt, meta } = opened.unwrapped
      unwrapped = checked(message, messagePurpose, expiresAt, purpose)
      if (unwrapped) {
        unwrapped.message = copyOfJsonValue(unwrapped.message)
        if (meta !== undefined) unwrapped.meta = copyOfJsonValue(meta)
      }
    } else {
      unwrapped = unwrap(opened.plain, purpose, opened.gcmPurpose)
      if (unwrapped && remembered) {
        opened.unwrapped = { ...unwrapped, purpose }
        this.#opened.resize(sealed)
        unwrapped = { ...unwrapped, message: copyOfJsonValue(unwrapped.message) }
        if (unwrapped.meta !== undefined) unwrapped.meta = copyOfJsonValue(unwrapped.meta)
      }
    }
    if (!unwrapped) {
      return null
    }
    const verified: VerifiedValue<T> = {
      value: unwrapped.message as T,
      stale: opened.keyIndex !== 0 || opened.format !== this.#format,
      expiresAt: unwrapped.expiresAt,
    }
    if (unwrapped.meta !== undefined) {
      verified.meta = unwrapped.meta
    }
    return verified
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
        const stale = index !== 0 || this.#format !== 'encrypter'
        return {
          value,
          stale,
          expiresAt: index !== 0 ? undefined : this.#sealedExpiries.get(sealed),
        }
      }
    }
    return null
  }

  /**
   * Verify and decrypt a value sealed in a format of this ring (gcm for the
   * app's `gcm` encrypter, legacy CBC), remembering the plain text.
   */
  #open(sealed: string, purpose: string): OpenedValue | null {
    if (typeof sealed !== 'string' || !sealed.startsWith('e:')) {
      return null
    }
    if (this.#gcm) {
      const opened = this.#gcm.open(sealed.slice(2), purpose)
      if (opened) {
        const value: OpenedValue = { sealed, ...opened, format: 'gcm', gcmPurpose: purpose }
        this.#opened.set(sealed, value)
        return value
      }
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
      const opened: OpenedValue = { sealed, plain, keyIndex, format: 'cbc' }
      this.#opened.set(sealed, opened)
      return opened
    } catch {
      return null
    }
  }
}
