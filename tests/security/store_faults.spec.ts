import { test } from '@japa/runner'
import { mkdir, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ExceptionHandler } from '@adonisjs/core/http'
import { captureLog } from '../../tests_helpers/log_capture.js'
import {
  assertAvailable,
  bootSecurityApp,
  sessionIdOf,
  storeAvailability,
  type SecurityApp,
} from './helpers.js'

const REDIS_STORE = await storeAvailability('redis')

/**
 * The core exception handler as it runs in production: no debug page, the
 * error message in the body, errors of 5xx logged with their `err`.
 */
class ProductionExceptionHandler extends ExceptionHandler {
  protected debug = false
}

/**
 * Boot an app on `store` whose errors are handled and logged as in
 * production, closed when the test ends.
 */
async function bootFaultApp(
  cleanup: (close: () => Promise<void>) => void,
  store: 'file' | 'redis' | 'database'
) {
  const log = captureLog()
  const app = await bootSecurityApp({
    store,
    withExceptionHandler: ProductionExceptionHandler,
    config: log.appConfig,
  })
  cleanup(() => app.close())
  return { app, log: log.lines }
}

/**
 * Store a session, break its entry with `breakEntry`, then change it: the 503
 * answer and the log lines name the error code, never the id or the folder.
 */
async function assertRedacted(
  assert: any,
  { app, log }: { app: SecurityApp; log: string[] },
  breakEntry: (sessionId: string) => Promise<void>,
  expectedCode: string
) {
  const client = app.client()
  await client.post('/put', { a: 1 })
  const sessionId = sessionIdOf(client)!
  await breakEntry(sessionId)
  const response = await client.request('/put', {
    method: 'POST',
    body: { a: 2 },
    headers: { accept: 'text/html' },
  })
  assert.equal(response.status, 503)
  const logged = log.join('')
  assert.include(logged, 'E_SESSION_STORE_UNAVAILABLE')
  for (const secret of [sessionId, app.location]) {
    assert.notInclude(response.text, secret)
    assert.notInclude(logged, secret)
  }
  assert.include(response.text, expectedCode)
  assert.include(logged, expectedCode)
}

test.group('security | store faults', () => {
  /** A session file replaced by something the file store cannot read, by the error code. */
  const BROKEN_FILES = [
    {
      title: 'a session file that is a symlink loop (ELOOP)',
      code: 'ELOOP',
      replace: (path: string) => symlink(path, path),
    },
    {
      title: 'a session file that became a folder (EISDIR)',
      code: 'EISDIR',
      replace: (path: string) => mkdir(path),
    },
  ]

  for (const broken of BROKEN_FILES) {
    test(`${broken.title} leaks neither id nor path`, async ({ assert, cleanup }) => {
      const { app, log } = await bootFaultApp(cleanup, 'file')
      await assertRedacted(
        assert,
        { app, log },
        async (sessionId) => {
          const path = join(app.location, `${sessionId}.txt`)
          await rm(path)
          await broken.replace(path)
        },
        broken.code
      )
    })
  }

  test('a Redis error whose command names the session key leaks no id', async ({
    assert,
    cleanup,
  }) => {
    assertAvailable(REDIS_STORE)
    const { app, log } = await bootFaultApp(cleanup, 'redis')
    const redis = ((await app.app.container.make('redis' as any)) as any).connection('main')
    await assertRedacted(
      assert,
      { app, log },
      async (sessionId) => {
        const [key] = await redis.keys(`*${sessionId}*`)
        await redis.del(key)
        await redis.hset(key, 'field', 'value')
      },
      'ReplyError WRONGTYPE'
    )
  })

  test('an SQL error whose message carries the session id leaks no id', async ({
    assert,
    cleanup,
  }) => {
    const { app, log } = await bootFaultApp(cleanup, 'database')
    const db = ((await app.app.container.make('lucid.db' as any)) as any).connection('sqlite')
    await assertRedacted(
      assert,
      { app, log },
      async () => {
        for (const event of ['INSERT', 'UPDATE']) {
          await db.rawQuery(
            `CREATE TRIGGER refuse_${event} BEFORE ${event} ON sessions BEGIN SELECT RAISE(ABORT, 'refused ' || NEW.id); END`
          )
        }
      },
      'SQLITE_CONSTRAINT_TRIGGER'
    )
  })
})
