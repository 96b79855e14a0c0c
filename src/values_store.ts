import { E_SESSION_INVALID_KEY, E_SESSION_NOT_A_NUMBER } from './errors.js'
import type { AllowedSessionValues, SessionData } from './types.js'

/**
 * A key as a dot path ('user.name') or an array of segments.
 */
export type ValuesPath = string | string[]

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype'])

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
    if (FORBIDDEN_SEGMENTS.has(segment)) {
      throw new E_SESSION_INVALID_KEY([segments.join('.'), segment])
    }
  }
  return segments
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object'
}

/**
 * Read a nested value.
 */
function getPath(source: Record<string, any>, segments: string[]): any {
  let current: any = source
  for (const segment of segments) {
    if (!isObject(current) || !Object.hasOwn(current, segment)) {
      return undefined
    }
    current = current[segment]
  }
  return current
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
 * Mutable session values that remember which top-level keys changed, so a
 * store can merge only those into what other requests wrote meanwhile.
 */
export class ValuesStore extends ReadOnlyValuesStore {
  #modified = false
  #changedKeys = new Set<string>()
  #cleared = false

  /** True once any value changed. */
  get hasBeenModified(): boolean {
    return this.#modified
  }

  /** The top-level keys changed since creation (or since `clear()`). */
  get changedKeys(): ReadonlySet<string> {
    return this.#changedKeys
  }

  /** True when `clear()`/`update()` replaced all values. */
  get wasCleared(): boolean {
    return this.#cleared
  }

  /** Record a change of one top-level key. */
  #changed(topKey: string) {
    this.#modified = true
    this.#changedKeys.add(topKey)
  }

  /** Set a value by dot path, creating the objects on the way. */
  set(key: ValuesPath, value: AllowedSessionValues | undefined): void {
    const segments = toSegments(key)
    if (value === undefined) {
      this.unset(segments)
      return
    }
    let current: Record<string, any> = this.values
    for (let index = 0; index < segments.length - 1; index++) {
      const segment = segments[index]
      if (!isObject(current[segment])) {
        current[segment] = {}
      }
      current = current[segment]
    }
    current[segments[segments.length - 1]] = value
    this.#changed(segments[0])
  }

  /** Remove a value by dot path. */
  unset(key: ValuesPath): void {
    const segments = toSegments(key)
    const parent = segments.length === 1 ? this.values : getPath(this.values, segments.slice(0, -1))
    if (isObject(parent)) {
      delete parent[segments[segments.length - 1]]
    }
    this.#changed(segments[0])
  }

  /** Read and remove a value. */
  pull(key: ValuesPath, defaultValue?: any): any {
    const value = this.get(key, defaultValue)
    this.unset(key)
    return value
  }

  /** Add `steps` to a number (0 when missing). */
  increment(key: ValuesPath, steps: number = 1): void {
    const value = this.get(key, 0)
    if (typeof value !== 'number') {
      throw new E_SESSION_NOT_A_NUMBER([toSegments(key).join('.'), describe(value)])
    }
    this.set(key, value + steps)
  }

  /** Subtract `steps` from a number (0 when missing). */
  decrement(key: ValuesPath, steps: number = 1): void {
    this.increment(key, -steps)
  }

  /** Shallow-merge top-level values. */
  merge(values: SessionData): void {
    for (const key of Object.keys(values)) {
      this.set([key], values[key])
    }
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
    this.#changedKeys.clear()
  }

  /** Mark a top-level key changed after its nested value was mutated in place. */
  markChanged(topKey: string): void {
    this.#changed(topKey)
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
