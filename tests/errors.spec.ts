import { test } from '@japa/runner'
import * as errors from '../src/errors.js'
import { captureLog } from '../tests_helpers/log_capture.js'
import { bootSecurityApp } from './security/helpers.js'

/**
 * Every error of the package with arguments that fill its message.
 */
const ALL_ERRORS = Object.entries(errors).map(([code, ErrorClass]) => ({
  code,
  error: new (ErrorClass as any)(['a', 'b']) as Error & { code: string; status: number },
}))

test.group('errors', () => {
  test('name every error after its code, in its name, class, stack and toString', ({ assert }) => {
    assert.isAbove(ALL_ERRORS.length, 10)
    for (const { code, error } of ALL_ERRORS) {
      assert.match(code, /^E_/)
      assert.equal(error.code, code)
      assert.equal(error.name, code)
      assert.equal(error.constructor.name, code)
      assert.isTrue(error.stack!.startsWith(`${code}: ${error.message}`), code)
      assert.equal(String(error), `${code}: ${error.message}`)
      assert.instanceOf(error, (errors as Record<string, any>)[code])
    }
  })

  test('log an error with its code as the type', ({ assert }) => {
    const log = captureLog()
    const error = new errors.E_INVALID_SESSION_CONFIG(['"age" must be positive'])
    log.logger().error({ err: error }, error.message)
    const logged = log.firstEntry()
    assert.equal(logged.err.type, 'E_INVALID_SESSION_CONFIG')
    assert.equal(logged.err.code, 'E_INVALID_SESSION_CONFIG')
    assert.match(logged.err.stack, /^E_INVALID_SESSION_CONFIG: Invalid session config/)
  })

  test('show the code as the name on the JSON error page of an app', async ({
    assert,
    cleanup,
  }) => {
    const app = await bootSecurityApp({
      store: 'memory',
      withExceptionHandler: true,
      routes(router) {
        router.get('/invalid', ({ session }) => session.put('big', 1n as any))
      },
    })
    cleanup(() => app.close())
    const response = await app.client().request('/invalid', {
      method: 'GET',
      headers: { accept: 'application/json' },
    })
    assert.equal(response.status, 500)
    assert.include(response.text, '"name":"E_SESSION_INVALID_VALUE"')
  })
})
