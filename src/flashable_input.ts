import debug from './debug.js'
import { isSecretFieldName } from './secret_field_names.js'

/**
 * The default size limits of the flashed old input, in bytes.
 */
export const DEFAULT_FLASH_INPUT_LIMITS = { field: 8 * 1024, total: 32 * 1024 }

/**
 * The most old input a store that keeps its data in a 4 KB cookie takes, in
 * bytes: encrypted and encoded, 2 KB of old input leave room for the rest.
 */
export const COOKIE_FLASH_INPUT_LIMITS = { field: 1024, total: 2048 }

/**
 * The smaller of two limits, per field and in total.
 */
export function smallestLimits(
  first: { field: number; total: number },
  second: { field: number; total: number }
): { field: number; total: number } {
  return {
    field: Math.min(first.field, second.field),
    total: Math.min(first.total, second.total),
  }
}

/**
 * What decides which request input is flashed back as old input.
 */
export interface FlashableInputRules {
  /** Names and dot paths never flashed (`neverFlash`). */
  neverFlash: ReadonlySet<string>
  /** Leave out fields whose names look secret (`detectSecretFields`). */
  detectSecretFields: boolean
  /** The most one field and all fields together may take, in bytes. */
  limits: { field: number; total: number }
}

/**
 * How much of the total the fields kept so far take.
 */
interface Budget {
  used: number
}

/**
 * The size a leaf value takes in the flash: its UTF-8 bytes for text (at
 * least its length, so an over-long string is refused without counting it).
 */
function leafBytes(value: unknown, limit: number): number {
  if (typeof value !== 'string') {
    return String(value).length
  }
  return value.length > limit ? value.length : Buffer.byteLength(value)
}

/**
 * Give a copy its key as plain data: assigning "__proto__" would set the
 * copy's prototype instead.
 */
function keep(copy: Record<string, unknown>, key: string, value: unknown) {
  if (key === '__proto__') {
    Object.defineProperty(copy, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  } else {
    copy[key] = value
  }
}

/**
 * A field name for a debug line: never the value, and never very long.
 */
function shown(path: string): string {
  return path.length > 80 ? `${path.slice(0, 80)}…` : path
}

/**
 * True when a field must not be flashed because of its name.
 */
function isNeverFlashed(key: string, path: string, rules: FlashableInputRules): boolean {
  return (
    rules.neverFlash.has(key) ||
    rules.neverFlash.has(path + key) ||
    (rules.detectSecretFields && isSecretFieldName(key))
  )
}

/**
 * The flashable copy of an object or array of the input, at `path`.
 */
function copyOf(input: object, path: string, rules: FlashableInputRules, budget: Budget): unknown {
  const copy: Record<string, unknown> = {}
  const kept: unknown[] = []
  for (const [key, value] of Object.entries(input)) {
    if (isNeverFlashed(key, path, rules)) {
      continue
    }
    const nameBytes = Array.isArray(input) ? 1 : Buffer.byteLength(key)
    const isLeaf = value === null || typeof value !== 'object'
    const bytes = nameBytes + (isLeaf ? leafBytes(value, rules.limits.field) : 0)
    if (value === undefined) {
      continue
    }
    if (bytes > rules.limits.field || budget.used + bytes > rules.limits.total) {
      debug(
        'old input field "%s" left out of the flash: over the flashInputLimits',
        shown(path + key)
      )
      continue
    }
    budget.used += bytes
    const flashed = isLeaf ? value : copyOf(value, `${path}${key}.`, rules, budget)
    if (Array.isArray(input)) {
      kept.push(flashed)
    } else {
      keep(copy, key, flashed)
    }
  }
  return Array.isArray(input) ? kept : copy
}

/**
 * The part of the request input that may be flashed back as old input: no
 * field named in `neverFlash` or (by default) whose name looks secret, at any
 * depth, and no field over the size limits. Fields are kept in order until
 * the total is reached.
 *
 * @example
 * flashableInput({ email: 'a@b.c', new_password: 'x' }, rules) // { email: 'a@b.c' }
 */
export function flashableInput(input: unknown, rules: FlashableInputRules): Record<string, any> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {}
  }
  return copyOf(input, '', rules, { used: 0 }) as Record<string, any>
}
