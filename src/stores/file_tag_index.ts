import { createHash } from 'node:crypto'
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs'
import { access, appendFile, mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isValidSessionId } from '../session_cookies.js'

/**
 * The folder of the index inside the store's location.
 */
export const TAG_INDEX_FOLDER = '.tags'

/**
 * The file that says the index lists every tagged session of the location
 * (written once the sessions stored before the index existed were indexed).
 */
const COMPLETE_MARKER = '.complete'

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
}

/**
 * The user a session file names in its metadata now; undefined when it names
 * none or is missing, expired or undecodable.
 */
export type OwnerOf = (sessionId: string) => Promise<string | undefined>

/**
 * The sessions of each user of a file store, as empty files
 * `<location>/.tags/<hash of the user id>/<sessionId>`: listing a user's
 * sessions reads one folder, not every session file. A link is created before
 * the session file that names the user is renamed into place, so a listing
 * never misses a live session; links the session no longer backs (destroyed,
 * expired, moved to another user) are dropped when a listing finds them and on
 * prune. The user's folder name is a hash, so any user id is a safe name.
 */
export class FileTagIndex {
  #folder: string
  #ownerOf: OwnerOf
  #complete: Promise<void> | undefined

  constructor(location: string, ownerOf: OwnerOf) {
    this.#folder = join(location, TAG_INDEX_FOLDER)
    this.#ownerOf = ownerOf
  }

  #folderName(userId: string): string {
    return createHash('sha256').update(userId).digest('base64url')
  }

  #userFolder(userId: string): string {
    return join(this.#folder, this.#folderName(userId))
  }

  /** Link a session to a user (synchronous: called inside the session's write). */
  link(sessionId: string, userId: string): void {
    const folder = this.#userFolder(userId)
    try {
      closeSync(openSync(join(folder, sessionId), 'a'))
    } catch (error) {
      if (!isMissing(error)) {
        throw error
      }
      mkdirSync(folder, { recursive: true })
      closeSync(openSync(join(folder, sessionId), 'a'))
    }
  }

  /** Link a session to a user without blocking (indexing sessions stored before the index). */
  async linkLater(sessionId: string, userId: string): Promise<void> {
    const folder = this.#userFolder(userId)
    await mkdir(folder, { recursive: true })
    await appendFile(join(folder, sessionId), '')
  }

  /** Remove the link of a session to a user (synchronous: called inside the session's destroy). */
  unlinkNow(sessionId: string, userId: string): void {
    rmSync(join(this.#userFolder(userId), sessionId), { force: true })
  }

  /**
   * Remove a link its session no longer backs (and the user's folder when
   * that was its last link). The session is checked again once the link is
   * gone, and linked again if a write made it the user's meanwhile (that
   * write may have found the old link in place).
   */
  async drop(sessionId: string, userId: string): Promise<void> {
    await this.#dropFrom(this.#folderName(userId), sessionId)
  }

  async #dropFrom(folderName: string, sessionId: string) {
    const link = join(this.#folder, folderName, sessionId)
    await rm(link, { force: true })
    const owner = isValidSessionId(sessionId) ? await this.#ownerOf(sessionId) : undefined
    if (owner !== undefined && this.#folderName(owner) === folderName) {
      await this.linkLater(sessionId, owner)
    } else {
      await rmdir(join(this.#folder, folderName)).catch(() => {})
    }
  }

  /**
   * The session ids linked to a user. The first call of a process indexes the
   * sessions stored before the index existed, once (`indexAll`).
   */
  async sessionIds(userId: string, indexAll: () => Promise<void>): Promise<string[]> {
    await this.#whenComplete(indexAll)
    try {
      const names = await readdir(this.#userFolder(userId))
      return names.filter(isValidSessionId)
    } catch (error) {
      if (isMissing(error)) {
        return []
      }
      throw error
    }
  }

  #whenComplete(indexAll: () => Promise<void>): Promise<void> {
    this.#complete ??= this.#ensureComplete(indexAll).catch((error) => {
      this.#complete = undefined
      throw error
    })
    return this.#complete
  }

  async #ensureComplete(indexAll: () => Promise<void>) {
    const marker = join(this.#folder, COMPLETE_MARKER)
    try {
      await access(marker)
      return
    } catch (error) {
      if (!isMissing(error)) {
        throw error
      }
    }
    await indexAll()
    await mkdir(this.#folder, { recursive: true })
    await writeFile(marker, '')
  }

  /**
   * Remove every link its session no longer backs (ended, expired, now
   * another user's), and the folders left empty; returns how many links were
   * removed. Reads each linked session once.
   */
  async prune(): Promise<number> {
    let folderNames: string[]
    try {
      folderNames = await readdir(this.#folder)
    } catch {
      return 0
    }
    let removed = 0
    for (const folderName of folderNames.filter((name) => name !== COMPLETE_MARKER)) {
      const folder = join(this.#folder, folderName)
      const ids = await readdir(folder).catch(() => [] as string[])
      for (const id of ids) {
        const owner = isValidSessionId(id) ? await this.#ownerOf(id) : undefined
        if (owner === undefined || this.#folderName(owner) !== folderName) {
          await this.#dropFrom(folderName, id)
          removed++
        }
      }
    }
    return removed
  }
}
