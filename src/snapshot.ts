import type { SessionData } from './types.js'

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
