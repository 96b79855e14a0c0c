import type { SessionStoreContract } from '../src/types.js'

/**
 * The store methods whose calls are counted.
 */
export type CountedMethod = 'read' | 'write' | 'destroy' | 'touch' | 'merge' | 'tag' | 'tagged'

/**
 * Counts the calls a session makes on a real store, by method, with the ids
 * and data passed. Wrap a store with `wrap()`; every call still reaches it.
 */
export class StoreCallCounter {
  calls: { method: CountedMethod; args: unknown[] }[] = []

  /** How many times a method was called. */
  count(method: CountedMethod): number {
    return this.calls.filter((call) => call.method === method).length
  }

  /** Forget the calls counted so far. */
  reset() {
    this.calls = []
  }

  /** A view of `store` that records every call of a contract method. */
  wrap<Store extends SessionStoreContract>(store: Store): Store {
    const counted = new Set<string>(['read', 'write', 'destroy', 'touch', 'merge', 'tag', 'tagged'])
    return new Proxy(store, {
      get: (target, property) => {
        const value = Reflect.get(target, property)
        if (typeof value !== 'function' || !counted.has(String(property))) {
          return value
        }
        return (...args: unknown[]) => {
          this.calls.push({ method: property as CountedMethod, args })
          return value.apply(target, args)
        }
      },
    })
  }
}
