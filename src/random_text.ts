import { randomFillSync } from 'node:crypto'

/**
 * How many random bytes are drawn from the CSPRNG at once. Each draw is a
 * system call that costs more than the rest of a session write on some virtual
 * machines, so ids and IVs are cut from one batch instead of one call each.
 */
const POOL_BYTES = 16 * 1024

const pool = Buffer.allocUnsafe(POOL_BYTES)
let poolOffset = POOL_BYTES

/**
 * `byteCount` bytes from the CSPRNG as URL-safe base64 text (session ids,
 * encryption IVs). Bytes are never handed out twice.
 */
export function randomBase64Url(byteCount: number): string {
  if (poolOffset + byteCount > POOL_BYTES) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const text = pool.toString('base64url', poolOffset, poolOffset + byteCount)
  poolOffset += byteCount
  return text
}
