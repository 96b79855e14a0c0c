import {
  closeSync,
  fstatSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
  type Stats,
} from 'node:fs'
import { join } from 'node:path'
import { randomBase64Url } from '../random_text.js'

/**
 * The folder, inside a file store's location, of the files a writer reuses.
 */
export const SPARE_FOLDER = '.spare'

/**
 * The names of spare files: `<pid>.<8 random characters>.<counter>`.
 */
const SPARE_NAME = /^\d+\.[A-Za-z0-9_-]{8}\.\d+$/

/**
 * True for the name of a spare file a writer made (in the spare folder).
 */
export function isSpareFileName(name: string): boolean {
  return SPARE_NAME.test(name)
}

/**
 * Spare files a writer keeps before it reuses the oldest: a file replaced at
 * its path is rewritten only after this many later writes, so a reader in
 * another process that opened it just before has long finished.
 */
const SPARES_BEFORE_REUSE = 4

/**
 * Spare files a writer keeps at most; more are deleted.
 */
const SPARES_LIMIT = 16

/**
 * A spare that some other name links too: another writer linked the same
 * replaced file (both replaced one path at once), so it is not ours to rewrite.
 */
class SharedSpareError extends Error {}

/**
 * Replaces files atomically: the new contents go to another file, which is
 * then renamed over the path, so a reader sees the old file or the new one,
 * never a torn one (SECURITY.md R5).
 *
 * Creating and deleting a file are the dear parts of that on ext4 (about four
 * times the CPU of rewriting one in place), so the writer reuses files: before
 * the rename it links the file being replaced into its spare folder, and a
 * later write rewrites that spare and renames it over its own path. A spare
 * is rewritten only while no other name links it (no session path, no spare
 * of another writer that replaced the same path at the same moment). Spare names carry the process id,
 * so processes sharing a folder never share spares; `pruneSpares` removes
 * those left behind.
 */
export class AtomicFileWriter {
  #spareFolder: string
  #spares: string[] = []
  #created = 0
  /** Tells this writer's spares apart from those of an earlier process with the same id. */
  #prefix = `${process.pid}.${randomBase64Url(6)}`

  constructor(location: string) {
    this.#spareFolder = join(location, SPARE_FOLDER)
  }

  /** Create the spare folder (and the location); a write does it when they are missing. */
  prepare() {
    mkdirSync(this.#spareFolder, { recursive: true })
  }

  /**
   * Replace the file at `path` with `contents`; returns the stats of the new
   * file, so a caller can tell it apart later.
   */
  write(path: string, contents: string): Stats {
    const spare = this.#spares.length > SPARES_BEFORE_REUSE ? this.#spares.shift()! : undefined
    const file = spare ?? this.#newSpareName()
    let stats: Stats
    try {
      stats = this.#fill(file, contents, spare !== undefined)
    } catch (error) {
      if (spare !== undefined) {
        rmSync(spare, { force: true })
        return this.write(path, contents)
      }
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error
      }
      this.prepare()
      stats = this.#fill(file, contents, false)
    }
    this.#keepReplaced(path)
    try {
      renameSync(file, path)
    } catch (error) {
      rmSync(file, { force: true })
      throw error
    }
    return stats
  }

  /**
   * Write `contents` at the start of a file and cut it there (a reused file is
   * cut only when it was longer: one system call less on most writes).
   */
  #fill(file: string, contents: string, reuse: boolean): Stats {
    const descriptor = openSync(file, reuse ? 'r+' : 'wx')
    try {
      const previousSize = reuse ? this.#unsharedSize(descriptor) : 0
      const length = writeSync(descriptor, contents, 0)
      if (previousSize > length) {
        ftruncateSync(descriptor, length)
      }
      return fstatSync(descriptor)
    } finally {
      closeSync(descriptor)
    }
  }

  /**
   * The size of a spare about to be rewritten; throws when another name links
   * it too (another writer kept the same replaced file), so it is never
   * rewritten under a live session.
   */
  #unsharedSize(descriptor: number): number {
    const stats = fstatSync(descriptor)
    if (stats.nlink !== 1) {
      throw new SharedSpareError()
    }
    return stats.size
  }

  /**
   * Link the file about to be replaced into the spare folder, so the rename
   * does not delete it. No file there (a new session) keeps nothing.
   */
  #keepReplaced(path: string) {
    const name = this.#newSpareName()
    try {
      linkSync(path, name)
    } catch {
      return
    }
    this.#spares.push(name)
    if (this.#spares.length > SPARES_LIMIT) {
      rmSync(this.#spares.shift()!, { force: true })
    }
  }

  #newSpareName(): string {
    return join(this.#spareFolder, `${this.#prefix}.${++this.#created}`)
  }
}
