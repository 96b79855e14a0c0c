import { E_SESSION_STORE_UNAVAILABLE } from './errors.js'
import type { SessionStoreContract } from './types.js'

const GUARDED_METHODS = [
  'read',
  'write',
  'destroy',
  'touch',
  'merge',
  'tag',
  'untag',
  'tagged',
  'prune',
] as const

function isSessionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && code.startsWith('E_SESSION_')
}

/**
 * Turn a failure of a store call into E_SESSION_STORE_UNAVAILABLE (503), naming
 * the store; the package's own errors pass through unchanged.
 */
function unavailable(storeName: string, error: unknown): unknown {
  if (isSessionError(error)) {
    return error
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new E_SESSION_STORE_UNAVAILABLE([storeName, reason], { cause: error })
}

/**
 * Await a store promise for at most `timeoutMs`.
 */
async function withTimeout<T>(
  storeName: string,
  promise: Promise<T>,
  timeoutMs: number
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
    throw unavailable(storeName, error)
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
        throw unavailable(storeName, error)
      }
      return result instanceof Promise ? withTimeout(storeName, result, timeoutMs) : result
    }
  }
  return guarded as T
}
