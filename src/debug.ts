import { debuglog } from 'node:util'
import { createHash } from 'node:crypto'

/**
 * Debug logs of the package: `NODE_DEBUG=adonis-satchel`.
 */
export default debuglog('adonis-satchel')

/**
 * A short, non-reversible fingerprint of a session id or cookie value for logs,
 * so debug output never carries a usable credential.
 */
export function fingerprint(value: string | undefined): string {
  if (!value) {
    return '-'
  }
  return createHash('sha256').update(value).digest('hex').slice(0, 8)
}
