import { debuglog } from 'node:util'
import { createHash } from 'node:crypto'

/**
 * Debug logs of the package: `NODE_DEBUG=adonis-satchel`.
 */
const debug = debuglog('adonis-satchel')

export default debug

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

/**
 * Write a debug line whose arguments are session ids or cookie values: each one
 * is logged as its fingerprint. Costs one property read when debug output is off.
 *
 * @example
 * debugSecrets('regenerated session %s as %s', oldId, newId)
 */
export function debugSecrets(message: string, ...secrets: (string | undefined)[]): void {
  if (debug.enabled) {
    debug(message, ...secrets.map(fingerprint))
  }
}
