/**
 * The bytes each in-process cache of the package may hold by default: 16 MiB.
 */
export const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024

/**
 * Bytes of heap a V8 string of this length may take: two per character (a
 * string holding any non-Latin-1 character takes two) plus its header. An
 * estimate on the safe side, cheap enough for every cache write.
 */
export function stringBytes(text: string): number {
  return 2 * text.length + 32
}

/**
 * Bytes of heap the decoded form of a JSON text may take (objects, arrays,
 * property keys and strings): three times the text, on the safe side of the
 * 1.8-2.8 times measured on session-like payloads of 100 B to 10 KB (Node.js 20).
 */
export function decodedJsonBytes(text: string): number {
  return 3 * text.length + 64
}

interface Entry<Value> {
  value: Value
  bytes: number
}

/**
 * A map that holds at most `budgetBytes` of values, by the size `sizeOf` gives
 * each one, and forgets the least recently used first. A value larger than the
 * whole budget is never kept. Every in-process cache of the package is one of
 * these, so no request pattern can grow the heap past the budgets.
 */
export class ByteBudgetCache<Key, Value> {
  #entries = new Map<Key, Entry<Value>>()
  #bytes = 0
  #budgetBytes: number
  #sizeOf: (value: Value) => number

  /**
   * @param budgetBytes the most the values may take together; 0 keeps nothing
   * @param sizeOf the bytes one value takes (called when it is stored or resized)
   */
  constructor(budgetBytes: number, sizeOf: (value: Value) => number) {
    if (!Number.isSafeInteger(budgetBytes) || budgetBytes < 0) {
      throw new RangeError(
        `A cache budget must be a whole number of bytes, 0 or more, received "${String(budgetBytes)}"`
      )
    }
    this.#budgetBytes = budgetBytes
    this.#sizeOf = sizeOf
  }

  /** The most the values may take together, in bytes. */
  get budgetBytes(): number {
    return this.#budgetBytes
  }

  /** The bytes the values held take now (by `sizeOf`). */
  get bytes(): number {
    return this.#bytes
  }

  /** How many values are held. */
  get size(): number {
    return this.#entries.size
  }

  /** The value of a key, marked as the most recently used. */
  get(key: Key): Value | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) {
      return undefined
    }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.value
  }

  /** True when a value is held for the key (its use is not recorded). */
  has(key: Key): boolean {
    return this.#entries.has(key)
  }

  /**
   * Hold a value as the most recently used, forgetting the least recently
   * used ones until the budget holds. Returns false (and holds nothing for
   * the key) when the value alone is larger than the budget.
   */
  set(key: Key, value: Value): boolean {
    this.delete(key)
    const bytes = this.#sizeOf(value)
    if (bytes > this.#budgetBytes) {
      return false
    }
    this.#entries.set(key, { value, bytes })
    this.#bytes += bytes
    this.#evict()
    return true
  }

  /**
   * Measure the value of a key again after it changed in place (it grew or
   * shrank), forgetting others (or this one) when over the budget.
   */
  resize(key: Key): void {
    const entry = this.#entries.get(key)
    if (entry === undefined) {
      return
    }
    const bytes = this.#sizeOf(entry.value)
    this.#bytes += bytes - entry.bytes
    entry.bytes = bytes
    if (bytes > this.#budgetBytes) {
      this.delete(key)
    } else {
      this.#evict()
    }
  }

  /** Forget the value of a key. */
  delete(key: Key): void {
    const entry = this.#entries.get(key)
    if (entry !== undefined) {
      this.#entries.delete(key)
      this.#bytes -= entry.bytes
    }
  }

  /** Forget every value. */
  clear(): void {
    this.#entries.clear()
    this.#bytes = 0
  }

  /** Forget the least recently used values while over the budget. */
  #evict() {
    if (this.#bytes <= this.#budgetBytes) {
      return
    }
    for (const [key, entry] of this.#entries) {
      this.#entries.delete(key)
      this.#bytes -= entry.bytes
      if (this.#bytes <= this.#budgetBytes) {
        return
      }
    }
  }
}
