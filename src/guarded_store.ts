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
 * A store call that did not answer within `storeTimeout`: the package's own
 * error, whose message is safe to show.
 */
class StoreTimeout extends Error {}

/**
 * Names that say nothing about an error ("Error", pg's "error").
 */
const GENERIC_NAMES = new Set(['Error', 'error'])

/**
 * What may be told of a driver's error: its class name and code ("ELOOP",
 * "ReplyError WRONGTYPE", "SqliteError SQLITE_CONSTRAINT_TRIGGER"), never its
 * message or other properties, which carry file paths, keys, commands and SQL
 * values with the session id in them.
 */
export function safeErrorParts(error: unknown): { name?: string; code?: string } {
  const { name, code, message } = (error ?? {}) as {
    name?: unknown
    code?: unknown
    message?: unknown
  }
  const parts: { name?: string; code?: string } = {}
  if (typeof name === 'string' && /^[A-Za-z][\w.]{0,60}$/.test(name) && !GENERIC_NAMES.has(name)) {
    parts.name = name
  }
  if ((typeof code === 'string' && /^[\w.-]{1,60}$/.test(code)) || typeof code === 'number') {
    parts.code = String(code)
  } else if (name === 'ReplyError' && typeof message === 'string') {
    parts.code = /^[A-Z][A-Z_]{1,30}(?= )/.exec(message)?.[0]
  }
  return parts
}

/**
 * Turn a failure of a store call into E_SESSION_STORE_UNAVAILABLE (503), naming
 * the store; the package's own errors pass through unchanged. The driver's
 * error is told by name and code only, in the message: logs and error pages
 * never see a session id or server path. No `cause` is attached: pino appends
 * a cause's message to the error's, which would repeat the reason in the log.
 */
function unavailable(storeName: string, error: unknown): unknown {
  if (isSessionError(error)) {
    return error
  }
  if (error instanceof StoreTimeout) {
    return new E_SESSION_STORE_UNAVAILABLE([storeName, error.message])
  }
  const { name, code } = safeErrorParts(error)
  const description = [name, code].filter(Boolean).join(' ') || 'unknown error'
  return new E_SESSION_STORE_UNAVAILABLE([storeName, description])
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
      () => reject(new StoreTimeout(`no answer within ${timeoutMs}ms (storeTimeout)`)),
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
