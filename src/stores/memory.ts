import { DEFAULT_CACHE_BYTES } from '../byte_budget_cache.js'
import { DecodedPayloads } from '../decoded_payloads.js'
import { attachSnapshot, encodePayload, mergedData } from '../payload.js'
import type {
  SessionChanges,
  SessionData,
  SessionStoreWithMergeContract,
  SessionStoreWithTaggingContract,
  TaggedSession,
} from '../types.js'

/**
 * The same text, made one flat string. On Node.js 20 and 22 `JSON.stringify`
 * returns a text of more than a few dozen characters as a rope of pieces
 * (about 90 bytes more for a 120-character payload, measured). A stored
 * payload lives for hours, so it is flattened once: reading it as a number
 * needs it flat, and the garbage collector then drops the pieces.
 */
function flattened(text: string): string {
  Number(text)
  return text
}

interface MemoryEntry {
  payload: string
  expiresAt: number
  userId?: string
}

/**
 * Keeps sessions in the process memory: for tests and development. Entries are
 * JSON copies (no shared references between requests) and expire after `age`;
 * expired ones are swept while the store is used, so it never grows unbounded.
 * The decoded data of sessions read again unchanged is kept within a byte
 * budget (`cacheBytes`, 16 MiB by default).
 */
export class MemoryStore implements SessionStoreWithTaggingContract, SessionStoreWithMergeContract {
  #entries = new Map<string, MemoryEntry>()
  #tags = new Map<string, Set<string>>()
  #ageMs: number
  #nextSweepAt = 0
  #decoded: DecodedPayloads

  /**
   * @param options.cacheBytes the most the decoded copies of sessions read
   *   again may take, in bytes (16 MiB by default; 0 parses every read)
   */
  constructor(ageInSeconds: number, options: { cacheBytes?: number } = {}) {
    this.#ageMs = ageInSeconds * 1000
    this.#decoded = new DecodedPayloads(options.cacheBytes ?? DEFAULT_CACHE_BYTES)
  }

  /** Number of entries held, expired ones included until the next sweep. */
  get size(): number {
    return this.#entries.size
  }

  /** The bytes the decoded copies of sessions read again take now (estimated). */
  get cachedBytes(): number {
    return this.#decoded.bytes
  }

  #live(sessionId: string): MemoryEntry | undefined {
    const entry = this.#entries.get(sessionId)
    if (entry && entry.expiresAt <= Date.now()) {
      this.destroy(sessionId)
      return undefined
    }
    return entry
  }

  /** Sweep expired entries at most once per second of writes. */
  #sweepSometimes() {
    const now = Date.now()
    if (now >= this.#nextSweepAt) {
      this.#nextSweepAt = now + 1000
      this.prune()
    }
  }

  /**
   * Read a session; expired ones read as null and are removed. A session read
   * again without a write in between is copied from its decoded data instead
   * of parsed again (see `DecodedPayloads`).
   */
  read(sessionId: string): SessionData | null {
    const entry = this.#live(sessionId)
    return entry
      ? attachSnapshot(this.#decoded.read(sessionId, entry.payload), entry.payload)
      : null
  }

  /** Replace a session's data and reset its expiry. */
  write(sessionId: string, data: SessionData): void {
    this.#sweepSometimes()
    const previous = this.#entries.get(sessionId)
    this.#decoded.forget(sessionId)
    this.#entries.set(sessionId, {
      payload: flattened(encodePayload(sessionId, data)),
      expiresAt: Date.now() + this.#ageMs,
      userId: previous?.userId,
    })
  }

  /** Apply one request's changes to what is stored now (atomic: one thread). */
  merge(sessionId: string, changes: SessionChanges, snapshot?: unknown): void {
    const entry = this.#live(sessionId)
    const next = entry && mergedData(sessionId, entry.payload, snapshot, changes)
    if (next) {
      this.write(sessionId, next)
    }
  }

  /** Remove a session and its user link. */
  destroy(sessionId: string): void {
    this.untag(sessionId)
    this.#entries.delete(sessionId)
    this.#decoded.forget(sessionId)
  }

  /** Reset the expiry of a live session. */
  touch(sessionId: string): void {
    const entry = this.#live(sessionId)
    if (entry) {
      entry.expiresAt = Date.now() + this.#ageMs
    }
  }

  /** Link a session to a user. */
  tag(sessionId: string, userId: string | number): void {
    this.untag(sessionId)
    const user = String(userId)
    const entry = this.#entries.get(sessionId)
    if (entry) {
      entry.userId = user
    } else {
      this.#entries.set(sessionId, {
        payload: encodePayload(sessionId, {}),
        expiresAt: Date.now() + this.#ageMs,
        userId: user,
      })
    }
    const ids = this.#tags.get(user) ?? new Set<string>()
    ids.add(sessionId)
    this.#tags.set(user, ids)
  }

  /** Remove the user link of a session. */
  untag(sessionId: string): void {
    const entry = this.#entries.get(sessionId)
    if (!entry?.userId) {
      return
    }
    const ids = this.#tags.get(entry.userId)
    ids?.delete(sessionId)
    if (ids && ids.size === 0) {
      this.#tags.delete(entry.userId)
    }
    entry.userId = undefined
  }

  /** The live sessions of a user. */
  tagged(userId: string | number): TaggedSession[] {
    const sessions: TaggedSession[] = []
    for (const id of [...(this.#tags.get(String(userId)) ?? [])]) {
      const data = this.read(id)
      if (data) {
        sessions.push({ id, data })
      }
    }
    return sessions
  }

  /** Remove every expired entry; returns how many were removed. */
  prune(): number {
    const now = Date.now()
    let removed = 0
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.destroy(id)
        removed++
      }
    }
    return removed
  }

  /** Forget every session (tests). */
  clear(): void {
    this.#entries.clear()
    this.#tags.clear()
    this.#decoded.clear()
  }
}
