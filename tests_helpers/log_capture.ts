import { Writable } from 'node:stream'
import { Logger } from '@adonisjs/core/logger'

/**
 * The lines an AdonisJS (pino) logger writes, kept in memory: `logger()` makes
 * a logger that writes into `lines`, `appConfig` is the `config` of a test app
 * whose default logger does.
 */
export function captureLog() {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const loggerConfig = { enabled: true, name: 'app', level: 'info', desination: destination }
  return {
    lines,
    /** The first line written, parsed. */
    firstEntry: () => JSON.parse(lines[0]),
    logger: () => new Logger(loggerConfig),
    appConfig: { logger: { default: 'app', loggers: { app: loggerConfig } } },
  }
}
