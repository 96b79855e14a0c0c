import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'

const IV_BYTES = 12
const TAG_BYTES = 16
const VERSION = 'v1:'

/**
 * The bytes of a base64url text in its one canonical spelling, else null:
 * Node's decoder skips characters outside the alphabet and the unused bits of
 * the last one, so a changed character could otherwise decode to the same
 * bytes and a tampered cookie still open.
 */
function canonicalBytes(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : null
}

/**
 * AES-256-GCM in the `v1` format of the `gcm` encrypter of AdonisJS 7
 * (`<id>.v1:<ciphertext>.<iv>.<tag>`, base64url, the purpose authenticated
 * as additional data, one key per secret derived with HKDF-SHA256). Sealing
 * it here lets the cookie store choose the plain text: the message envelope
 * with the session metadata beside `message`, where the framework's
 * decryption never looks.
 */
export class GcmSeal {
  #id: string
  /** One key per secret, the newest (which seals) first. */
  #keys: Buffer[]

  constructor(id: string, secrets: string[]) {
    this.#id = id
    this.#keys = secrets.map((secret) => {
      const secretKey = createHash('sha256').update(secret).digest()
      return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), `aes-256-gcm:v1:${id}`, 32))
    })
  }

  /** Encrypt a plain text bound to a purpose with the newest key. */
  seal(plain: string, purpose: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#keys[0], iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(Buffer.from(purpose))
    const encrypted = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return [
      this.#id,
      `${VERSION}${encrypted.toString('base64url')}`,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.')
  }

  /**
   * The plain text of a value sealed for `purpose` and the index of the key
   * that opens it; null when no key does, or it is not in this format.
   */
  open(sealed: string, purpose: string): { plain: string; keyIndex: number } | null {
    const parts = sealed.split('.')
    if (parts.length !== 4 || parts[0] !== this.#id || !parts[1].startsWith(VERSION)) {
      return null
    }
    const encrypted = canonicalBytes(parts[1].slice(VERSION.length))
    const iv = canonicalBytes(parts[2])
    const tag = canonicalBytes(parts[3])
    if (!encrypted?.length || iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES) {
      return null
    }
    for (const [keyIndex, key] of this.#keys.entries()) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
        decipher.setAAD(Buffer.from(purpose))
        decipher.setAuthTag(tag)
        const plain = Buffer.concat([decipher.update(encrypted), decipher.final()])
        return { plain: plain.toString('utf8'), keyIndex }
      } catch {
        continue
      }
    }
    return null
  }
}
