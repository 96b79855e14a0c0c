import { fingerprint } from './debug.js'
import { E_SESSION_STORE_UNAVAILABLE } from './errors.js'
import type { SessionStoreContract } from './types.js'

const GUARDED_METHODS = [
  'read',
  'peek',
  'write',
  'destroy',
  'touch',
  'merge',
  'tag',
  'untag',
  'tagged',
  'prune',
  'close',
] as const

function isSessionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && code.startsWith('E_SESSION_')
}

/**
 * Turn a failure of a store call into E_SESSION_STORE_UNAVAILABLE (503), naming
 * the store; the package's own errors pass through unchanged. A session id the
 * driver echoed in its message (a file path, a SQL key) becomes its fingerprint,
 * so logs and error pages never carry it.
 */
function unavailable(storeName: string, error: unknown, sessionId?: unknown): unknown {
  if (isSessionError(error)) {
    return error
  }
  let reason = error instanceof Error ? error.message : String(error)
  if (typeof sessionId === 'string' && sessionId) {
    reason = reason.replaceAll(sessionId, `<session ${fingerprint(sessionId)}>`)
  }
  return new E_SESSION_STORE_UNAVAILABLE([storeName, reason], { cause: error })
}

/**
 * Await a store promise for at most `timeoutMs`.
 */
async function withTimeout<T>(
  storeName: string,
  promise: Promise<T>,
  timeoutMs: number,
  sessionId: unknown
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${timeoutMs}ms (storeTimeout)`)),
      timeoutMs
    )
  })
  try {
    return await Promise.race([promise, timeout])
  } catch (error) {
    throw unavailable(storeName, error, sessionId)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Wrap a store so that every call is bounded by `timeoutMs` and every failure
 * is a typed 503. Synchronous stores (memory, cookie) stay synchronous.
 */
export function guardStore<T extends SessionStoreContract>(
  storeName: string,
  store: T,
  timeoutMs: number
): T {
  const guarded = Object.create(store)
  for (const method of GUARDED_METHODS) {
    const original = (store as any)[method]
    if (typeof original !== 'function') {
      continue
    }
    guarded[method] = (...args: unknown[]) => {
      let result: unknown
      try {
        result = original.apply(store, args)
      } catch (error) {
        throw unavailable(storeName, error, args[0])
      }
      return result instanceof Promise ? withTimeout(storeName, result, timeoutMs, args[0]) : result
    }
  }
  return guarded as T
}
