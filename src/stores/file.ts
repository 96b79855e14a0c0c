import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  type Stats,
} from 'node:fs'
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { debugSecrets } from '../debug.js'
import { isValidSessionId } from '../session_cookies.js'
import { ByteBudgetCache, DEFAULT_CACHE_BYTES, stringBytes } from '../byte_budget_cache.js'
import { DecodedPayloads } from '../decoded_payloads.js'
import {
  attachSnapshot,
  decodePayload,
  encodePayload,
  mergedData,
  METADATA_KEY,
  userIdOf,
} from '../payload.js'
import { AtomicFileWriter, isSpareFileName, SPARE_FOLDER } from './atomic_file_writer.js'
import { FileTagIndex } from './file_tag_index.js'
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
 * How many files prune checks at once.
 */
const PRUNE_BATCH = 64

/**
 * What tells one version of a file from another: its inode, size and mtime.
 */
interface FileVersion {
  inode: number
  size: number
  mtimeMs: number
}

/**
 * The contents of a session file this process read or wrote, and the version
 * it had then: while a `stat` still shows it, the file is the same and need not
 * be read again.
 */
interface KnownFile extends FileVersion {
  contents: string
  /** The user this process last linked the session to in the tag index. */
  linkedUser?: string
}

function knownFileBytes(file: KnownFile): number {
  return stringBytes(file.contents) + 64
}

/**
 * The temp files of earlier versions of the store: `<session id>.txt.<pid>.<n>.tmp`.
 */
const LEGACY_TEMP_FILE = /^(.+)\.txt\.[A-Za-z0-9.]+\.tmp$/

/**
 * True for the name of a session file (`<session id>.txt`) or a temp file an
 * earlier version of the store left.
 */
function isSessionFileName(name: string): boolean {
  if (name.endsWith(FILE_SUFFIX)) {
    return isValidSessionId(name.slice(0, -FILE_SUFFIX.length))
  }
  const legacy = LEGACY_TEMP_FILE.exec(name)
  return legacy !== null && isValidSessionId(legacy[1])
}

function versionOf(stats: Stats): FileVersion {
  return { inode: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs }
}

/**
 * True when `stats` describe the same version of a file. A write by another
 * process renames another inode into place; the mtime and size catch a file
 * rewritten in place (by another writer, or a spare being reused).
 */
function isSameFile(version: FileVersion, stats: Stats): boolean {
  return (
    version.inode === stats.ino &&
    version.size === stats.size &&
    Math.abs(version.mtimeMs - stats.mtimeMs) < 0.01
  )
}

/**
 * One file per session, `<location>/<sessionId>.txt`, in the payload format of
 * @adonisjs/session. Writes go to another file renamed into place, so a crash
 * never leaves a torn file (files replaced are reused, see AtomicFileWriter);
 * the expiry is the file's mtime plus `age`.
 *
 * Request-path calls use synchronous file calls: session files are small and
 * local, and in Node.js 20 one synchronous read costs about a twentieth of the
 * CPU of `fs.promises` (which hops through the thread pool several times). It
 * also makes each merge atomic within the process: nothing else runs between
 * reading the file and renaming the new one into place. Keep `location` on a
 * local disk, not a network file system.
 *
 * The store remembers the contents of the files it read (and keeps them
 * current when it writes them again): a request for a file unchanged since
 * (same inode, size and mtime) costs one `stat`, not an open, read and close.
 * A file only written is not remembered. What it remembers, with the decoded
 * data of files read again, stays within `cacheBytes` (16 MiB by default).
 */
export class FileStore implements SessionStoreWithTaggingContract, SessionStoreWithMergeContract {
  #location: string
  #ageMs: number
  #writer: AtomicFileWriter
  #knownFiles: ByteBudgetCache<string, KnownFile>
  #decoded: DecodedPayloads
  #tags: FileTagIndex

  /**
   * @param options.cacheBytes the most the remembered contents and decoded data
   *   may take, in bytes, half each (16 MiB by default; 0 remembers nothing)
   */
  constructor(location: string, ageInSeconds: number, options: { cacheBytes?: number } = {}) {
    this.#location = location
    this.#ageMs = ageInSeconds * 1000
    this.#writer = new AtomicFileWriter(location)
    const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES
    this.#knownFiles = new ByteBudgetCache(Math.ceil(cacheBytes / 2), knownFileBytes)
    this.#decoded = new DecodedPayloads(Math.floor(cacheBytes / 2))
    this.#tags = new FileTagIndex(location, async (sessionId) =>
      userIdOf(await this.#readWithoutBlocking(sessionId))
    )
  }

  /** The bytes this store keeps in memory of the files it read (estimated). */
  get cachedBytes(): number {
    return this.#knownFiles.bytes + this.#decoded.bytes
  }

  /** The file of a session; refuses anything not shaped like a session id. */
  #pathOf(sessionId: string): string {
    if (!isValidSessionId(sessionId)) {
      throw new TypeError('Refusing to use an invalid session id as a file name')
    }
    return join(this.#location, `${sessionId}${FILE_SUFFIX}`)
  }

  /** Remember what a session file holds (within the byte budget). */
  #remember(sessionId: string, contents: string, stats: Stats): KnownFile {
    const file = { contents, ...versionOf(stats) }
    this.#knownFiles.set(sessionId, file)
    return file
  }

  /** Remove a session file, its tag link when known, and what is remembered of it. */
  #remove(sessionId: string) {
    const linkedUser = this.#knownFiles.get(sessionId)?.linkedUser
    if (linkedUser !== undefined) {
      this.#tags.unlinkNow(sessionId, linkedUser)
    }
    this.#knownFiles.delete(sessionId)
    this.#decoded.forget(sessionId)
    rmSync(this.#pathOf(sessionId), { force: true })
  }

  /**
   * A live session file as remembered, or null (expired files are removed). A
   * file this process read or wrote, unchanged since, costs one `stat`.
   */
  #readLive(sessionId: string): KnownFile | null {
    const stats = statSync(this.#pathOf(sessionId), { throwIfNoEntry: false })
    if (!stats || stats.mtimeMs + this.#ageMs <= Date.now()) {
      this.#remove(sessionId)
      return null
    }
    const known = this.#knownFiles.get(sessionId)
    return known && isSameFile(known, stats) ? known : this.#readFile(sessionId)
  }

  /**
   * Read a session file through one descriptor, so contents and stats match.
   * A file that changed while read, or is no longer at its path once read, was
   * replaced meanwhile and may be a spare another writer is rewriting: read
   * the path again.
   */
  #readFile(sessionId: string, attempts = 3): KnownFile | null {
    const path = this.#pathOf(sessionId)
    let descriptor: number
    try {
      descriptor = openSync(path, 'r')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return null
      }
      throw error
    }
    let stats: Stats
    let contents: string
    let unchanged: boolean
    try {
      stats = fstatSync(descriptor)
      contents = readFileSync(descriptor, 'utf8')
      unchanged = isSameFile(versionOf(stats), fstatSync(descriptor))
    } finally {
      closeSync(descriptor)
    }
    const stillThere = statSync(path, { throwIfNoEntry: false })?.ino === stats.ino
    if (!(unchanged && stillThere) && attempts > 1) {
      return this.#readFile(sessionId, attempts - 1)
    }
    return this.#remember(sessionId, contents, stats)
  }

  /**
   * Replace a session file atomically (see AtomicFileWriter), linking it to
   * the user its data names first (unless this process knows it did already).
   * Its contents are remembered only when they were before (the session was
   * read here).
   */
  #writeAtomically(sessionId: string, data: SessionData) {
    const contents = encodePayload(sessionId, data)
    const userId = userIdOf(data)
    const known = this.#knownFiles.get(sessionId)
    if (userId !== undefined && known?.linkedUser !== userId) {
      this.#tags.link(sessionId, userId)
    }
    const stats = this.#writer.write(this.#pathOf(sessionId), contents)
    if (known) {
      this.#remember(sessionId, contents, stats).linkedUser = userId ?? known.linkedUser
    }
  }

  /**
   * Read a session; expired, missing or corrupt files read as null. A file
   * read again unchanged is copied from its decoded data, not parsed again.
   */
  read(sessionId: string): SessionData | null {
    const file = this.#readLive(sessionId)
    if (file === null) {
      return null
    }
    const data = this.#decoded.read(sessionId, file.contents)
    if (!data) {
      debugSecrets('file store: deleting the undecodable file of session %s', sessionId)
      this.#remove(sessionId)
    }
    return attachSnapshot(data, file.contents)
  }

  /** Replace a session's data. */
  write(sessionId: string, data: SessionData): void {
    this.#writeAtomically(sessionId, data)
  }

  /** Apply one request's changes on top of the file as it is now; never recreates a session. */
  merge(sessionId: string, changes: SessionChanges, snapshot?: unknown): void {
    const file = this.#readLive(sessionId)
    const next = file && mergedData(sessionId, file.contents, snapshot, changes)
    if (next) {
      this.#writeAtomically(sessionId, next)
    }
  }

  /** Delete a session file. */
  destroy(sessionId: string): void {
    this.#remove(sessionId)
  }

  /**
   * Extend the expiry by bumping the file's mtime (data untouched); never revives
   * an expired file.
   */
  touch(sessionId: string): void {
    const path = this.#pathOf(sessionId)
    const stats = statSync(path, { throwIfNoEntry: false })
    if (!stats) {
      return
    }
    const now = Date.now()
    if (stats.mtimeMs + this.#ageMs <= now) {
      this.#remove(sessionId)
      return
    }
    utimesSync(path, now / 1000, now / 1000)
    const known = this.#knownFiles.get(sessionId)
    if (known && isSameFile(known, stats)) {
      known.mtimeMs = now
    }
  }

  /**
   * Link a session to a user. The link is the session's metadata, written with
   * its data at commit; a session not stored yet is created empty.
   */
  tag(sessionId: string, userId: string | number): void {
    this.merge(sessionId, {
      set: { [METADATA_KEY]: { ...this.#metadataOf(sessionId), userId: String(userId) } },
      unset: [],
      cleared: false,
    })
  }

  /** Remove the user link of a session. */
  untag(sessionId: string): void {
    const metadata = this.#metadataOf(sessionId)
    if (metadata?.userId) {
      delete metadata.userId
      this.merge(sessionId, { set: { [METADATA_KEY]: metadata }, unset: [], cleared: false })
    }
  }

  #metadataOf(sessionId: string): SessionMetadata | undefined {
    const data = this.read(sessionId)
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

  /**
   * A session's data read through `fs.promises` (for listings, which must not
   * block the event loop): null when missing, expired or undecodable.
   */
  async #readWithoutBlocking(sessionId: string): Promise<SessionData | null> {
    const path = this.#pathOf(sessionId)
    try {
      const stats = await stat(path)
      if (stats.mtimeMs + this.#ageMs <= Date.now()) {
        return null
      }
      return decodePayload(sessionId, await readFile(path, 'utf8'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return null
      }
      throw error
    }
  }

  /**
   * The live sessions of a user, from the user's folder of the tag index: one
   * folder listing and one read per session of that user, none blocking.
   * Links a session no longer backs are dropped on the way.
   */
  async tagged(userId: string | number): Promise<TaggedSession[]> {
    const user = String(userId)
    const ids = await this.#tags.sessionIds(user, () => this.#indexAll())
    const sessions = await Promise.all(
      ids.map(async (id): Promise<TaggedSession | null> => {
        const data = await this.#readWithoutBlocking(id)
        if (data && userIdOf(data) === user) {
          return { id, data }
        }
        await this.#tags.drop(id, user)
        return null
      })
    )
    return sessions.filter((session) => session !== null)
  }

  /** Link every stored session that names a user (sessions stored before the index existed). */
  async #indexAll(): Promise<void> {
    for (const id of await this.#sessionIds()) {
      const userId = userIdOf(await this.#readWithoutBlocking(id))
      if (userId !== undefined) {
        await this.#tags.linkLater(id, userId)
      }
    }
  }

  /**
   * Delete every expired session file and spare file left by a writer, then
   * the tag links no session backs any more; returns how many files (not
   * links) were removed. Only names the store makes are touched
   * (`<session id>.txt`, the temp files of earlier versions, spares, the tag
   * index): other files in the folder stay, however old.
   */
  async prune(): Promise<number> {
    const now = Date.now()
    const removed = await this.#pruneFolder(this.#location, now, isSessionFileName)
    const spares = join(this.#location, SPARE_FOLDER)
    const removedSpares = await this.#pruneFolder(spares, now, isSpareFileName)
    await this.#tags.prune()
    return removed + removedSpares
  }

  /** Delete the files of one folder that `isOwn` names and whose mtime is older than the age. */
  async #pruneFolder(
    folder: string,
    now: number,
    isOwn: (name: string) => boolean
  ): Promise<number> {
    let names: string[]
    try {
      names = await readdir(folder)
    } catch {
      return 0
    }
    const own = names.filter(isOwn)
    let removed = 0
    /* A batch of files at a time: the thread pool works on several at once. */
    for (let start = 0; start < own.length; start += PRUNE_BATCH) {
      const batch = own.slice(start, start + PRUNE_BATCH)
      const outcomes = await Promise.all(
        batch.map(async (name) => {
          const path = join(folder, name)
          const stats = await stat(path).catch(() => null)
          if (stats?.isFile() && stats.mtimeMs + this.#ageMs <= now) {
            await rm(path, { force: true })
            return 1
          }
          return 0
        })
      )
      removed += outcomes.reduce<number>((sum, outcome) => sum + outcome, 0)
    }
    return removed
  }
}
