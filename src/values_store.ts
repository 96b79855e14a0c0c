import { E_SESSION_INVALID_KEY, E_SESSION_NOT_A_NUMBER } from './errors.js'
import { deepMerge, FORBIDDEN_KEYS, getPath, isObject, parentFor, unsetPath } from './data_paths.js'
import type { AllowedSessionValues, SessionData } from './types.js'

/**
 * A key as a dot path ('user.name') or an array of segments.
 */
export type ValuesPath = string | string[]

/**
 * One change a request made, by path: the value `replace`d (read from the
 * values when the change is stored, so later edits under it are included;
 * undefined there means removed), a number `increment`ed by `by`, or `items`
 * `push`ed to an array. Stores replay increments and pushes on what is stored
 * then, so parallel requests add up instead of overwriting each other.
 */
export type TrackedChange =
  | { kind: 'replace'; path: string[] }
  | { kind: 'increment'; path: string[]; by: number }
  | { kind: 'push'; path: string[]; items: AllowedSessionValues[] }

/**
 * Split a key into path segments, for reading: reads follow own properties
 * only, so any name (a form field called "constructor") is safe to read.
 */
function readSegments(path: ValuesPath): string[] {
  return Array.isArray(path) ? path.map(String) : String(path).split('.')
}

/**
 * Split a key into path segments for writing, refusing the ones that reach a
 * prototype.
 */
function toSegments(path: ValuesPath): string[] {
  const segments = readSegments(path)
  for (const segment of segments) {
    if (FORBIDDEN_KEYS.has(segment)) {
      throw new E_SESSION_INVALID_KEY([segments.join('.'), segment])
    }
  }
  return segments
}

/**
 * The key of a path in the change list (segments may hold dots).
 */
function keyOf(segments: readonly string[]): string {
  return segments.length === 1 ? segments[0] : segments.join('\u0000')
}

/**
 * True when `path` lies strictly under `ancestor`.
 */
function isUnder(path: readonly string[], ancestor: readonly string[]): boolean {
  return (
    path.length > ancestor.length && ancestor.every((segment, index) => path[index] === segment)
  )
}

/**
 * Truthiness as @adonisjs/session's `has` sees it: empty arrays count as missing.
 */
function isPresent(value: unknown, checkArrays: boolean): boolean {
  if (checkArrays && Array.isArray(value)) {
    return value.length > 0
  }
  return !!value
}

/**
 * Read-only view over session values: `flashMessages` and the `session` Edge global.
 */
export class ReadOnlyValuesStore {
  protected values: SessionData

  constructor(values: SessionData | null) {
    this.values = values ?? {}
  }

  /** True when no value is held. */
  get isEmpty(): boolean {
    for (const key in this.values) {
      if (Object.hasOwn(this.values, key)) return false
    }
    return true
  }

  /** Read a value by dot path; `defaultValue` replaces null and undefined. */
  get(key: ValuesPath, defaultValue?: any): any {
    const value = getPath(this.values, readSegments(key))
    return value === undefined || value === null ? defaultValue : value
  }

  /** True when the value is truthy (and, by default, a non-empty array). */
  has(key: ValuesPath, checkArrays: boolean = true): boolean {
    return isPresent(this.get(key), checkArrays)
  }

  /** All values (the live object). */
  all(): SessionData {
    return this.values
  }

  /** Same as `all()`. */
  toObject(): SessionData {
    return this.values
  }

  /** Same as `all()`, for JSON.stringify. */
  toJSON(): SessionData {
    return this.values
  }

  /** The values as a JSON string. */
  toString(): string {
    return JSON.stringify(this.values)
  }
}

/**
 * Mutable session values that remember what changed, by dot path, so a store
 * can merge only those changes into what other requests wrote meanwhile.
 */
export class ValuesStore extends ReadOnlyValuesStore {
  #modified = false
  #changes = new Map<string, TrackedChange>()
  /** True once a change below the top level was tracked (descendants must be looked for). */
  #hasNestedChanges = false
  #cleared = false

  /** True once any value changed. */
  get hasBeenModified(): boolean {
    return this.#modified
  }

  /** The top-level keys changed since creation (or since `clear()`). */
  get changedKeys(): ReadonlySet<string> {
    const keys = new Set<string>()
    for (const change of this.#changes.values()) keys.add(change.path[0])
    return keys
  }

  /**
   * The changes since creation (or since `clear()`), in order, one per path:
   * a change covers those made before it under its path.
   */
  get trackedChanges(): Iterable<TrackedChange> {
    return this.#changes.values()
  }

  /** True when `clear()`/`update()` replaced all values. */
  get wasCleared(): boolean {
    return this.#cleared
  }

  /**
   * Track a change. A replace covers every earlier change under its path and
   * absorbs any later one there (the value is read when stored); increments
   * and pushes of one path add up; mixed kinds on one path become a replace.
   */
  #track(change: TrackedChange) {
    this.#modified = true
    const path = change.path
    for (let depth = 1; depth < path.length; depth++) {
      const ancestor = this.#changes.get(keyOf(path.slice(0, depth)))
      if (ancestor?.kind === 'replace') {
        return
      }
      if (ancestor) {
        this.#track({ kind: 'replace', path: ancestor.path })
        return
      }
    }
    const key = keyOf(path)
    const existing = this.#changes.get(key)
    if (existing?.kind === 'replace') {
      return
    }
    if (existing && existing.kind === change.kind) {
      if (change.kind === 'increment') {
        ;(existing as { by: number }).by += change.by
      } else {
        ;(existing as { items: AllowedSessionValues[] }).items.push(...change.items)
      }
      return
    }
    const covers =
      change.kind === 'replace' || existing !== undefined || this.#hasChangesUnder(path)
    if (covers) {
      this.#forgetChangesUnder(path)
      change = { kind: 'replace', path }
    }
    this.#changes.delete(key)
    this.#changes.set(key, change)
    if (path.length > 1) {
      this.#hasNestedChanges = true
    }
  }

  #hasChangesUnder(path: readonly string[]): boolean {
    if (!this.#hasNestedChanges) return false
    for (const change of this.#changes.values()) {
      if (isUnder(change.path, path)) return true
    }
    return false
  }

  #forgetChangesUnder(path: readonly string[]) {
    if (!this.#hasNestedChanges) return
    for (const [key, change] of this.#changes) {
      if (isUnder(change.path, path)) this.#changes.delete(key)
    }
  }

  /** Set a value by dot path, creating the objects on the way. */
  set(key: ValuesPath, value: AllowedSessionValues | undefined): void {
    const segments = toSegments(key)
    if (value === undefined) {
      this.unset(segments)
      return
    }
    parentFor(this.values, segments)[segments[segments.length - 1]] = value
    this.#track({ kind: 'replace', path: segments })
  }

  /** Remove a value by dot path, and the parent objects that this leaves empty. */
  unset(key: ValuesPath): void {
    const segments = toSegments(key)
    unsetPath(this.values, segments)
    this.#track({ kind: 'replace', path: segments })
  }

  /** Read and remove a value. */
  pull(key: ValuesPath, defaultValue?: any): any {
    const value = this.get(key, defaultValue)
    this.unset(key)
    return value
  }

  /**
   * Add `steps` to a number (0 when missing). Stored as an addition, so
   * parallel requests that increment the same key all count.
   */
  increment(key: ValuesPath, steps: number = 1): void {
    const segments = toSegments(key)
    const value = getPath(this.values, segments) ?? 0
    if (typeof value !== 'number') {
      throw new E_SESSION_NOT_A_NUMBER([segments.join('.'), describe(value)])
    }
    parentFor(this.values, segments)[segments[segments.length - 1]] = value + steps
    this.#track({ kind: 'increment', path: segments, by: steps })
  }

  /** Subtract `steps` from a number (0 when missing). */
  decrement(key: ValuesPath, steps: number = 1): void {
    this.increment(key, -steps)
  }

  /**
   * Append a value to the array at a key (a new array when it holds none).
   * Stored as an append, so parallel requests that push to one array all keep
   * their items (a key that held something else is replaced by the new array).
   */
  push(key: ValuesPath, value: AllowedSessionValues): void {
    const segments = toSegments(key)
    const current = getPath(this.values, segments)
    const next = Array.isArray(current) ? [...current, value] : [value]
    parentFor(this.values, segments)[segments[segments.length - 1]] = next
    this.#track(
      Array.isArray(current) || current === undefined
        ? { kind: 'push', path: segments, items: [value] }
        : { kind: 'replace', path: segments }
    )
  }

  /**
   * Merge values deeply, as @adonisjs/session does: plain objects key by key,
   * arrays and other values replaced, `undefined` skipped. Plain data only:
   * `__proto__`, `constructor` and `prototype` keys are dropped.
   */
  merge(values: SessionData): void {
    deepMerge(this.values, values, (segments) => this.#track({ kind: 'replace', path: segments }))
  }

  /** Replace every value. */
  update(values: SessionData): void {
    this.clear()
    this.merge(values)
  }

  /** Remove every value. */
  clear(): void {
    this.values = {}
    this.#modified = true
    this.#cleared = true
    this.#changes.clear()
    this.#hasNestedChanges = false
  }

  /** Mark a key (a top-level key or a path) changed after its value was mutated in place. */
  markChanged(key: ValuesPath): void {
    this.#track({ kind: 'replace', path: Array.isArray(key) ? key.map(String) : [key] })
  }
}

/**
 * Only the values at the given paths (`'user.name'` keeps `{ user: { name } }`),
 * like lodash `pick`. Missing paths are left out.
 */
export function pickPaths(source: SessionData, paths: ValuesPath[]): SessionData {
  const picked: SessionData = {}
  for (const path of paths) {
    const segments = toSegments(path)
    const value = getPath(source, segments)
    if (value === undefined) continue
    let target: Record<string, any> = picked
    for (const segment of segments.slice(0, -1)) {
      target = isObject(target[segment]) ? target[segment] : (target[segment] = {})
    }
    target[segments[segments.length - 1]] = value
  }
  return picked
}

/**
 * Every value but those at the given paths, like lodash `omit`: the objects on
 * a path are copied before a key is removed, so `source` is left unchanged.
 */
export function omitPaths(source: SessionData, paths: ValuesPath[]): SessionData {
  const result: SessionData = { ...source }
  for (const path of paths) {
    const segments = toSegments(path)
    let target: Record<string, any> = result
    for (const segment of segments.slice(0, -1)) {
      if (!isObject(target[segment])) {
        target = {}
        break
      }
      target[segment] = Array.isArray(target[segment])
        ? [...target[segment]]
        : { ...target[segment] }
      target = target[segment]
    }
    delete target[segments[segments.length - 1]]
  }
  return result
}

/**
 * A short type name for error messages.
 */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}
