/**
 * Reading and changing plain session data (JSON objects) by path: the one
 * implementation that `ValuesStore` uses for a request's values and that the
 * stored format uses to replay a request's changes on what is stored.
 */

/**
 * Keys that reach a prototype: never read, written or merged.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
])

/**
 * True for any object (arrays included).
 */
export function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object'
}

/**
 * True for an object merged key by key: a plain `{}` (or a null-prototype
 * object), not an array, Date or class instance.
 */
export function isPlainObject(value: unknown): value is Record<string, any> {
  if (!isObject(value) || Array.isArray(value)) {
    return false
  }
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/**
 * The value at a path, or undefined; own properties only.
 */
export function getPath(source: Record<string, any>, segments: readonly string[]): any {
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
 * The object that holds the last segment of a path, created on the way: a
 * missing or non-object step becomes `{}`.
 */
export function parentFor(target: Record<string, any>, segments: readonly string[]) {
  let current = target
  for (let index = 0; index < segments.length - 1; index++) {
    const segment = segments[index]
    if (!isObject(current[segment])) {
      current[segment] = {}
    }
    current = current[segment]
  }
  return current
}

/**
 * Set the value at a path, creating the objects on the way.
 */
export function setPath(target: Record<string, any>, segments: readonly string[], value: unknown) {
  parentFor(target, segments)[segments[segments.length - 1]] = value
}

/**
 * Remove the value at a path, then every parent object this left empty (so
 * forgetting `redirect.intendedUrl` leaves no `redirect: {}` behind).
 */
export function unsetPath(target: Record<string, any>, segments: readonly string[]) {
  const parents: Record<string, any>[] = [target]
  for (let index = 0; index < segments.length - 1; index++) {
    const next = parents[index][segments[index]]
    if (!isObject(next) || !Object.hasOwn(parents[index], segments[index])) {
      return
    }
    parents.push(next)
  }
  let index = segments.length - 1
  if (!Object.hasOwn(parents[index], segments[index])) {
    return
  }
  delete parents[index][segments[index]]
  while (index > 0 && isEmptyPlainObject(parents[index])) {
    index--
    delete parents[index][segments[index]]
  }
}

function isEmptyPlainObject(value: Record<string, any>): boolean {
  if (!isPlainObject(value)) {
    return false
  }
  for (const key in value) {
    if (Object.hasOwn(value, key)) return false
  }
  return true
}

/**
 * True when a key would reach a prototype if walked through: `__proto__`,
 * `constructor` or `prototype` holding an object. Holding text, numbers or
 * arrays (the errors of a form field named "constructor") it is plain data.
 */
function reachesPrototype(key: string, value: unknown): boolean {
  return FORBIDDEN_KEYS.has(key) && isObject(value) && !Array.isArray(value)
}

/**
 * Set an own property, also for the key `__proto__` (which plain assignment
 * would turn into a prototype).
 */
function assignOwn(target: Record<string, any>, key: string, value: unknown) {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  } else {
    target[key] = value
  }
}

/**
 * A copy of plain data for merging: plain objects and arrays are copied at
 * every depth, `undefined` and keys that would reach a prototype are dropped;
 * other values (strings, numbers, Dates) are kept as they are.
 */
export function plainCopy<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((item) => plainCopy(item)) as T
  }
  if (!isPlainObject(value)) {
    return value
  }
  const copy: Record<string, any> = {}
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined && !reachesPrototype(key, value[key])) {
      assignOwn(copy, key, plainCopy(value[key]))
    }
  }
  return copy as T
}

/**
 * Merge `source` into `target` deeply: plain objects key by key, arrays and
 * every other value replaced (by a copy), `undefined` skipped. Plain data
 * only: a `__proto__`, `constructor` or `prototype` key is dropped at the top
 * level and wherever it holds an object, so nothing reaches a prototype.
 * `onReplace` hears the path of every value written (the parent's path for a
 * key named like a prototype member), so a caller can track what changed.
 */
export function deepMerge(
  target: Record<string, any>,
  source: Record<string, any>,
  onReplace?: (segments: string[]) => void,
  prefix: string[] = []
): void {
  for (const key of Object.keys(source)) {
    const value = source[key]
    if (value === undefined) {
      continue
    }
    if (FORBIDDEN_KEYS.has(key)) {
      if (prefix.length > 0 && !reachesPrototype(key, value)) {
        assignOwn(target, key, plainCopy(value))
        onReplace?.(prefix)
      }
      continue
    }
    if (isPlainObject(value) && isPlainObject(target[key]) && Object.hasOwn(target, key)) {
      deepMerge(target[key], value, onReplace, [...prefix, key])
      continue
    }
    target[key] = plainCopy(value)
    onReplace?.([...prefix, key])
  }
}
