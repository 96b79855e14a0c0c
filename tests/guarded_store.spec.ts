import { test } from '@japa/runner'
import { guardStore, safeErrorParts } from '../src/guarded_store.js'
import type { SessionStoreContract } from '../src/types.js'
import { captureLog } from '../tests_helpers/log_capture.js'

/**
 * A store whose every call fails with `error`.
 */
function failingStore(error: unknown): SessionStoreContract {
  const fail = async () => {
    throw error
  }
  return { read: fail, write: fail, destroy: fail, touch: fail }
}

test.group('guardStore', () => {
  test('tell a driver error by its name and code only', ({ assert }) => {
    const fsError = Object.assign(new Error("ELOOP: stat '/srv/sessions/abc.txt'"), {
      code: 'ELOOP',
    })
    assert.deepEqual(safeErrorParts(fsError), { code: 'ELOOP' })
    const reply = Object.assign(new Error('WRONGTYPE Operation against a key'), {
      name: 'ReplyError',
      command: { name: 'get', args: ['session:abc'] },
    })
    assert.deepEqual(safeErrorParts(reply), { name: 'ReplyError', code: 'WRONGTYPE' })
    const pg = Object.assign(new Error('Key (id)=(abc) already exists'), {
      name: 'error',
      code: '23505',
    })
    assert.deepEqual(safeErrorParts(pg), { code: '23505' })
    assert.deepEqual(safeErrorParts('text'), {})
    assert.deepEqual(safeErrorParts({ name: 'a b c', code: 'x'.repeat(100) }), {})
  })

  test('fail with a 503 that carries no driver message and no cause', async ({ assert }) => {
    const id = 'abcdefghijklmnopqrstuvwx'
    const driverError = Object.assign(new Error(`EACCES: open '/srv/sessions/${id}.txt'`), {
      code: 'EACCES',
      path: `/srv/sessions/${id}.txt`,
    })
    const store = guardStore('file', failingStore(driverError), 1000)
    const error = await Promise.resolve(store.read(id)).catch((failure) => failure)
    assert.equal(error.code, 'E_SESSION_STORE_UNAVAILABLE')
    assert.equal(error.status, 503)
    assert.equal(error.message, 'The "file" session store is unavailable: EACCES')
    assert.isUndefined(error.cause)
    assert.notInclude(JSON.stringify(error, Object.getOwnPropertyNames(error)), id)
    assert.notInclude(String(error.stack), '/srv/sessions')
  })

  test('keep the package own errors and say when a store did not answer in time', async ({
    assert,
  }) => {
    const hanging = {
      ...failingStore(null),
      read: (_sessionId: string) => new Promise<null>(() => {}),
    }
    const store = guardStore('slow', hanging, 20)
    await assert.rejects(
      async () => store.read('abcdefghijklmnop'),
      'The "slow" session store is unavailable: no answer within 20ms (storeTimeout)'
    )
  })

  test('log a store failure with its reason once', async ({ assert }) => {
    const log = captureLog()
    const closed = Object.assign(new Error('Connection is closed.'), { code: 'ECONNCLOSED' })
    const store = guardStore('redis', failingStore(closed), 1000)
    const error = await Promise.resolve(store.read('abcdefghijklmnop')).catch((failure) => failure)
    log.logger().error({ err: error }, 'request failed')
    const logged = log.firstEntry().err
    assert.equal(logged.message, 'The "redis" session store is unavailable: ECONNCLOSED')
    assert.equal(logged.type, 'E_SESSION_STORE_UNAVAILABLE')
  })
})
