import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { debugSecrets } from '../debug.js'
import { METADATA_KEY } from '../session.js'
import { isValidSessionId } from '../session_cookies.js'
import { applyChanges, decodePayload, encodePayload } from '../payload.js'
import { attachSnapshot } from '../snapshot.js'
import type {
  SessionChanges,
  SessionData,
  SessionMetadata,
  SessionStoreWithMergeContract,
  SessionStoreWithTaggingContract,
  TaggedSession,
} from '../types.js'

const FILE_SUFFIX = '.txt'

/**
 * One file per session, `<location>/<sessionId>.txt`, in the payload format of
 * @adonisjs/session. Writes go to a temp file renamed into place, so a crash
 * never leaves a torn file; the expiry is the file's mtime plus `age`. Changes
 * of one session are merged one at a time within the process.
 */
export class FileStore implements SessionStoreWithTaggingContract, SessionStoreWithMergeContract {
  #location: string
  #ageMs: number
  #locationReady: Promise<unknown> | undefined
  #locks = new Map<string, Promise<unknown>>()

  constructor(location: string, ageInSeconds: number) {
    this.#location = location
    this.#ageMs = ageInSeconds * 1000
  }

  /** The file of a session; refuses anything not shaped like a session id. */
  #pathOf(sessionId: string): string {
    if (!isValidSessionId(sessionId)) {
      throw new TypeError('Refusing to use an invalid session id as a file name')
    }
    return join(this.#location, `${sessionId}${FILE_SUFFIX}`)
  }

  #ensureLocation() {
    this.#locationReady ??= mkdir(this.#location, { recursive: true })
    return this.#locationReady
  }

  /** Run `task` after every earlier task of the same session finished. */
  async #exclusive<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(sessionId) ?? Promise.resolve()
    const current = previous.then(task, task)
    const settled = current.catch(() => {})
    this.#locks.set(sessionId, settled)
    try {
      return await current
    } finally {
      if (this.#locks.get(sessionId) === settled) {
        this.#locks.delete(sessionId)
      }
    }
  }

  /** Contents and mtime of a live session file, or null (expired files are removed). */
  async #readLive(sessionId: string): Promise<string | null> {
    const path = this.#pathOf(sessionId)
    try {
      const [stats, contents] = await Promise.all([stat(path), readFile(path, 'utf8')])
      if (stats.mtimeMs + this.#ageMs <= Date.now()) {
        await rm(path, { force: true })
        return null
      }
      return contents
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return null
      }
      throw error
    }
  }

  /** Write atomically: temp file, then rename over the session file. */
  async #writeAtomically(sessionId: string, contents: string) {
    await this.#ensureLocation()
    const path = this.#pathOf(sessionId)
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
    await writeFile(temporary, contents, 'utf8')
    await rename(temporary, path)
  }

  /** Read a session; expired, missing or corrupt files read as null. */
  async read(sessionId: string): Promise<SessionData | null> {
    const contents = await this.#readLive(sessionId)
    if (contents === null) {
      return null
    }
    const data = decodePayload(sessionId, contents)
    if (!data) {
      debugSecrets('file store: deleting the undecodable file of session %s', sessionId)
      await rm(this.#pathOf(sessionId), { force: true })
    }
    return attachSnapshot(data, contents)
  }

  /** Replace a session's data. */
  async write(sessionId: string, data: SessionData): Promise<void> {
    await this.#exclusive(sessionId, () =>
      this.#writeAtomically(sessionId, encodePayload(sessionId, data))
    )
  }

  /** Apply one request's changes on top of the file as it is now. */
  async merge(sessionId: string, changes: SessionChanges): Promise<void> {
    await this.#exclusive(sessionId, async () => {
      const contents = await this.#readLive(sessionId)
      const current = contents === null ? null : decodePayload(sessionId, contents)
      if (current) {
        await this.#writeAtomically(
          sessionId,
          encodePayload(sessionId, applyChanges(current, changes))
        )
      }
    })
  }

  /** Delete a session file. */
  async destroy(sessionId: string): Promise<void> {
    await this.#exclusive(sessionId, () => rm(this.#pathOf(sessionId), { force: true }))
  }

  /**
   * Extend the expiry by bumping the file's mtime (data untouched); never revives
   * an expired file, and skips the write when the mtime is only a moment old.
   */
  async touch(sessionId: string): Promise<void> {
    const path = this.#pathOf(sessionId)
    try {
      const stats = await stat(path)
      const now = Date.now()
      if (stats.mtimeMs + this.#ageMs <= now) {
        await rm(path, { force: true })
        return
      }
      if (now - stats.mtimeMs >= Math.min(1000, this.#ageMs / 10)) {
        await utimes(path, new Date(now), new Date(now))
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error
      }
    }
  }

  /**
   * Link a session to a user. The link is the session's metadata, written with
   * its data at commit; a session not stored yet is created empty.
   */
  async tag(sessionId: string, userId: string | number): Promise<void> {
    await this.merge(sessionId, {
      set: { [METADATA_KEY]: { ...(await this.#metadataOf(sessionId)), userId: String(userId) } },
      unset: [],
      cleared: false,
    })
  }

  /** Remove the user link of a session. */
  async untag(sessionId: string): Promise<void> {
    const metadata = await this.#metadataOf(sessionId)
    if (metadata?.userId) {
      delete metadata.userId
      await this.merge(sessionId, { set: { [METADATA_KEY]: metadata }, unset: [], cleared: false })
    }
  }

  async #metadataOf(sessionId: string): Promise<SessionMetadata | undefined> {
    const data = await this.read(sessionId)
    return data?.[METADATA_KEY] as SessionMetadata | undefined
  }

  /** The session ids with a file in the folder. */
  async #sessionIds(): Promise<string[]> {
    try {
      const names = await readdir(this.#location)
      return names
        .filter((name) => name.endsWith(FILE_SUFFIX))
        .map((name) => name.slice(0, -FILE_SUFFIX.length))
        .filter(isValidSessionId)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return []
      }
      throw error
    }
  }

  /** The live sessions of a user (reads every session file). */
  async tagged(userId: string | number): Promise<TaggedSession[]> {
    const user = String(userId)
    const sessions: TaggedSession[] = []
    for (const id of await this.#sessionIds()) {
      const data = await this.read(id)
      const metadata = data?.[METADATA_KEY] as SessionMetadata | undefined
      if (data && metadata?.userId === user) {
        sessions.push({ id, data })
      }
    }
    return sessions
  }

  /** Delete every expired session file and stale temp file; returns how many were removed. */
  async prune(): Promise<number> {
    let removed = 0
    let names: string[]
    try {
      names = await readdir(this.#location)
    } catch {
      return 0
    }
    const now = Date.now()
    for (const name of names) {
      const path = join(this.#location, name)
      const stats = await stat(path).catch(() => null)
      if (stats?.isFile() && stats.mtimeMs + this.#ageMs <= now) {
        await rm(path, { force: true })
        removed++
      }
    }
    return removed
  }
}
