/**
 * The stored format, shared by the session and every store: the payload
 * envelope `{"message":{...},"purpose":"<sessionId>"}` of @adonisjs/session,
 * the key of the session metadata, the snapshot a store hands back to its
 * compare-and-set, and how one request's changes apply to stored data.
 */
import { FORBIDDEN_KEYS, getPath, setPath, unsetPath } from './data_paths.js'
import type { SessionChanges, SessionData, SessionMetadata, SessionOperation } from './types.js'

/**
 * The key under which a session's metadata is kept inside its data.
 */
export const METADATA_KEY = '__session_meta__'

/**
 * The user recorded in a session's metadata, if any.
 */
export function userIdOf(data: SessionData | null): string | undefined {
  const metadata = data?.[METADATA_KEY] as SessionMetadata | undefined
  const userId = metadata && typeof metadata === 'object' ? metadata.userId : undefined
  return userId === undefined || userId === null ? undefined : String(userId)
}

const SNAPSHOT = Symbol('adonis-satchel.snapshot')

/**
 * Attach what a store read (a raw payload, a version) to the data it returns,
 * without changing the data: the session hands it back to `merge()`, so the
 * store can compare-and-swap against exactly what this request read.
 */
export function attachSnapshot<T extends SessionData | null>(data: T, snapshot: unknown): T {
  if (data) {
    Object.defineProperty(data, SNAPSHOT, { value: snapshot, enumerable: false })
  }
  return data
}

/**
 * The snapshot a store attached to data it read, if any.
 */
export function snapshotOf(data: SessionData | null): unknown {
  return data ? (data as any)[SNAPSHOT] : undefined
}

/**
 * True when a JSON text may hold a key that reaches a prototype, written
 * plainly or with unicode escapes. Plain substring checks: far cheaper than a
 * reviver on every parse, which only the rare texts that match pay for.
 */
function mayHoldPollutingKey(text: string): boolean {
  return (
    text.includes('__proto__') ||
    text.includes('constructor') ||
    text.includes('prototype') ||
    text.includes('\\u')
  )
}

/**
 * Drop the keys that could reach a prototype when the value is merged later:
 * `__proto__`, `constructor` and `prototype` holding an object. Holding text,
 * numbers or arrays (the errors of a form field named "constructor") they are
 * kept as plain data: no merge can walk through them into a prototype.
 */
function dropPollutingKeys(key: string, value: unknown) {
  if (
    (key === '__proto__' || key === 'constructor' || key === 'prototype') &&
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value)
  ) {
    return undefined
  }
  return value
}

/**
 * A deep copy of a value that came out of `JSON.parse` (plain objects, arrays,
 * strings, numbers, booleans, null): several times cheaper than parsing the
 * JSON again, and exact for such values. Keys are copied as data, so a
 * `__proto__` key could never become a prototype.
 */
export function copyOfJsonValue<T>(value: T): T {
  if (value === null || typeof value !== 'object') {
    return value
  }
  if (Array.isArray(value)) {
    return value.map((item) => copyOfJsonValue(item)) as T
  }
  const copy: Record<string, unknown> = {}
  for (const key in value) {
    if (key === '__proto__') {
      Object.defineProperty(copy, key, {
        value: copyOfJsonValue(value[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    } else {
      copy[key] = copyOfJsonValue(value[key])
    }
  }
  return copy as T
}

/**
 * Parse JSON, never throwing and never keeping `__proto__`, `constructor` or
 * `prototype` keys that hold an object. Returns null for anything that is not
 * valid JSON.
 */
export function parseJson(text: string): unknown {
  try {
    return mayHoldPollutingKey(text) ? JSON.parse(text, dropPollutingKeys) : JSON.parse(text)
  } catch {
    return null
  }
}

/**
 * Encode session data the way @adonisjs/session stores it in every server-side
 * store: `{"message":{...},"purpose":"<sessionId>"}`, so both packages read each
 * other's sessions. The metadata (`METADATA_KEY`) goes beside `message`, as
 * `"meta"`, where @adonisjs/session does not look: an app that switches back
 * sees only its values in `session.all()`.
 */
export function encodePayload(sessionId: string, data: SessionData): string {
  const metadata = data[METADATA_KEY]
  if (metadata === undefined) {
    return JSON.stringify({ message: data, purpose: sessionId })
  }
  const message: SessionData = {}
  for (const key in data) {
    if (key === METADATA_KEY || !Object.hasOwn(data, key)) continue
    if (key === '__proto__') {
      Object.defineProperty(message, key, {
        value: data[key],
        enumerable: true,
        writable: true,
        configurable: true,
      })
    } else {
      message[key] = data[key]
    }
  }
  return JSON.stringify({ message, purpose: sessionId, meta: metadata })
}

/**
 * Decode a stored payload bound to a session id; null when it is corrupt, for
 * another session, or not an object. Metadata stored beside `message` comes
 * back under `METADATA_KEY`, as does metadata of the earlier layout, kept
 * inside `message`.
 */
export function decodePayload(sessionId: string, contents: unknown): SessionData | null {
  if (typeof contents !== 'string') {
    return null
  }
  const parsed = parseJson(contents) as {
    message?: unknown
    purpose?: unknown
    meta?: unknown
  } | null
  if (!parsed || typeof parsed !== 'object' || parsed.purpose !== sessionId) {
    return null
  }
  const message = parsed.message as SessionData
  if (!message || typeof message !== 'object' || Array.isArray(message)) {
    return null
  }
  if ('expiryDate' in parsed && isExpired((parsed as { expiryDate?: unknown }).expiryDate)) {
    return null
  }
  const metadata = parsed.meta
  if (metadata && typeof metadata === 'object' && !Array.isArray(metadata)) {
    message[METADATA_KEY] = metadata
  }
  return message
}

function isExpired(expiryDate: unknown): boolean {
  if (expiryDate === undefined || expiryDate === null) {
    return false
  }
  const time = new Date(expiryDate as string).getTime()
  return Number.isNaN(time) || time < Date.now()
}

/**
 * The data a merge stores: the request's whole data when the stored payload is
 * still the one the request read (`raw === snapshot`, no decoding needed),
 * otherwise its changes applied to the stored payload decoded now. Null when
 * the stored payload cannot be decoded.
 */
export function mergedData(
  sessionId: string,
  raw: string,
  snapshot: unknown,
  changes: SessionChanges
): SessionData | null {
  if (changes.data && raw === snapshot) {
    return changes.data
  }
  const current = decodePayload(sessionId, raw)
  return current && applyChanges(current, changes)
}

/**
 * Apply one request's changes to stored data (used by stores that merge):
 * top-level keys set or removed, then each operation by path, so parallel
 * requests that change different paths, increment a number or push to an
 * array all keep their changes. `current` is left unchanged.
 */
export function applyChanges(
  current: SessionData | null,
  changes: Pick<SessionChanges, 'set' | 'unset' | 'cleared' | 'operations'>
): SessionData {
  const next: SessionData = changes.cleared || !current ? {} : { ...current }
  for (const key of changes.unset) {
    delete next[key]
  }
  for (const key of Object.keys(changes.set)) {
    next[key] = changes.set[key]
  }
  if (changes.operations?.length) {
    applyOperations(next, changes.operations)
  }
  return next
}

/**
 * Replay operations on data whose top-level object is already a copy: each
 * top-level value an operation reaches is copied once before it changes.
 */
function applyOperations(next: SessionData, operations: readonly SessionOperation[]) {
  const copied = new Set<string>()
  for (const operation of operations) {
    const path = operation.path
    if (!Array.isArray(path) || path.length === 0 || path.some((key) => FORBIDDEN_KEYS.has(key))) {
      continue
    }
    if (!copied.has(path[0])) {
      copied.add(path[0])
      next[path[0]] = copyOfJsonValue(next[path[0]])
    }
    applyOperation(next, operation)
  }
}

/**
 * Replay one operation on data (changed in place).
 */
function applyOperation(data: SessionData, operation: SessionOperation) {
  const path = operation.path
  switch (operation.type) {
    case 'set':
      setPath(data, path, operation.value)
      return
    case 'unset':
      unsetPath(data, path)
      return
    case 'increment': {
      const value = getPath(data, path)
      setPath(data, path, (typeof value === 'number' ? value : 0) + operation.by)
      return
    }
    case 'push': {
      const value = getPath(data, path)
      setPath(
        data,
        path,
        Array.isArray(value) ? [...value, ...operation.items] : [...operation.items]
      )
    }
  }
}

/**
 * Why a value cannot be stored as JSON, or null when it can. Walks objects and
 * arrays once; Dates and objects with `toJSON` are accepted as JSON.stringify
 * accepts them.
 */
export function unstorableReason(value: unknown, seen: Set<object> = new Set()): string | null {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return null
    case 'bigint':
      return 'BigInt values cannot be stored; convert it to a string first'
    case 'function':
      return 'functions cannot be stored'
    case 'symbol':
      return 'symbols cannot be stored'
  }
  if (value === null || value instanceof Date || typeof (value as any).toJSON === 'function') {
    return null
  }
  const object = value as Record<string, unknown>
  if (seen.has(object)) {
    return 'it contains a circular reference'
  }
  seen.add(object)
  for (const key of Object.keys(object)) {
    const reason = unstorableReason(object[key], seen)
    if (reason) {
      return reason
    }
  }
  seen.delete(object)
  return null
}
