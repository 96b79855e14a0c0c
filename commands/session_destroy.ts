import { args, flags } from '@adonisjs/core/ace'
import { fingerprint } from '../src/debug.js'
import { SessionCommand } from './session_command.js'
import type { SessionManager } from '../src/session_manager.js'

/**
 * `node ace session:destroy`: end one session by id, one of a user's sessions
 * by the fingerprint `session:list` shows, or every session of a user.
 */
export default class SessionDestroy extends SessionCommand {
  static commandName = 'session:destroy'
  static description = 'End a session by id, or the sessions of a user (sign them out)'
  static help = [
    '{{ binaryName }} session:destroy <session id>',
    '{{ binaryName }} session:destroy <fingerprint> --user=42   (fingerprints come from session:list)',
    '{{ binaryName }} session:destroy --user=42                 (every session of user 42)',
  ]

  @args.string({
    description: 'A session id, or with --user a fingerprint from session:list',
    required: false,
  })
  declare session?: string

  @flags.string({ description: 'The user id whose session(s) to end' })
  declare user?: string

  /** End the chosen session(s) and print what was ended. */
  protected async handle(manager: SessionManager): Promise<void> {
    if (this.user !== undefined && this.session) {
      return this.#destroyOneOfUser(manager, this.user, this.session)
    }
    if (this.user !== undefined) {
      const ended = await manager.destroyTagged(this.user)
      this.logger.success(
        `Ended ${ended} ${ended === 1 ? 'session' : 'sessions'} of user "${this.user}"`
      )
      return
    }
    if (this.session) {
      return this.#destroyById(manager, this.session)
    }
    this.#fail('Pass a session id, or --user=<id> to end the sessions of a user')
  }

  async #destroyById(manager: SessionManager, sessionId: string) {
    if ((await manager.read(sessionId)) === null) {
      this.#fail(
        `No live session has this id in the "${manager.storeName}" store. To end a session by its fingerprint, add --user=<id>`
      )
      return
    }
    await manager.destroy(sessionId)
    this.logger.success(`Ended session ${fingerprint(sessionId)}`)
  }

  async #destroyOneOfUser(manager: SessionManager, userId: string, idOrFingerprint: string) {
    const sessions = await manager.tagged(userId)
    const match = sessions.find(
      ({ id }) => id === idOrFingerprint || fingerprint(id) === idOrFingerprint
    )
    if (!match) {
      this.#fail(
        `User "${userId}" has no live session "${idOrFingerprint}". Run "session:list --user=${userId}" to see them`
      )
      return
    }
    await manager.destroy(match.id)
    this.logger.success(`Ended session ${fingerprint(match.id)} of user "${userId}"`)
  }

  #fail(message: string) {
    this.logger.error(message)
    this.exitCode = 1
  }
}
