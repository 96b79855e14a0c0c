import type { PluginFn } from '@japa/runner/types'
import type { ApplicationService } from '@adonisjs/core/types'
import { ApiClient, ApiRequest, ApiResponse } from '@japa/api-client'
import { ReadOnlyValuesStore } from '../../values_store.js'
import { E_INVALID_SESSION_TEST_SETUP } from '../../errors.js'
import type { SessionManager } from '../../session_manager.js'
import type { SessionData } from '../../types.js'
import { SessionClient, sessionManagerForTests, type SessionContents } from '../../client.js'

declare module '@japa/api-client' {
  interface ApiRequest {
    /** Seeds the session this request sends. */
    sessionClient: SessionClient
    /** Send the request with these values in its session. */
    withSession(values: SessionData): this
    /** Send the request with these flash messages (as left by a previous request). */
    withFlashMessages(values: SessionData): this
  }

  interface ApiResponse {
    /** The session as the app left it after this response. */
    sessionBag: SessionContents
    /** All session values, or one by dot path. */
    session(key?: string): any
    /** The flash messages the app left for the next request. */
    flashMessages(): SessionData
    /** One flash message by dot path. */
    flashMessage(key: string): any
    /** Assert the session holds a key (dot path), and optionally its value. */
    assertSession(key: string, value?: any): void
    /** Assert the session does not hold a key (dot path). */
    assertSessionMissing(key: string): void
    /** Assert a flash message exists (dot path), and optionally its value. */
    assertFlashMessage(key: string, value?: any): void
    /** Assert a flash message does not exist (dot path). */
    assertFlashMissing(key: string): void
    /** Assert the flashed validation errors include the field. */
    assertHasValidationError(field: string): void
    /** Assert the flashed validation errors do not include the field. */
    assertDoesNotHaveValidationError(field: string): void
    /** Assert one of the field's flashed validation messages is `message`. */
    assertValidationError(field: string, message: string): void
    /** Assert the field's flashed validation messages are exactly `messages`. */
    assertValidationErrors(field: string, messages: string[]): void
  }
}

/**
 * Options of the API client plugin.
 */
export interface SessionApiClientOptions {
  /**
   * The store the app's sessions use while the tests run: "memory" by default,
   * so the sessions a test seeds are the ones the app reads. Name another
   * server-side store of `config/session.ts` (e.g. "redis") to test against it.
   */
  store?: string
}

/**
 * The manager of the app under test, set each time the plugin runs; the
 * request macros, registered once per process, read it.
 */
let activeManager: SessionManager | undefined
let registered = false

/**
 * The session id a response's Set-Cookie headers carry, or null.
 */
function sessionIdOf(response: ApiResponse, client: SessionClient): string | null {
  const header = response.header('set-cookie') as string | string[] | undefined
  const prefix = `${client.cookieName}=`
  const lines = [header ?? []].flat().filter((line) => line.startsWith(prefix))
  const last = lines.at(-1)
  return last ? client.readSessionId(last.slice(prefix.length).split(';')[0]) : null
}

/**
 * The assert object of a response, or a clear error when @japa/assert is missing.
 */
function assertOf(response: ApiResponse) {
  if (!response.assert) {
    throw new E_INVALID_SESSION_TEST_SETUP([
      'session assertions need @japa/assert. Add "assert()" to the plugins in "tests/bootstrap.ts"',
    ])
  }
  return response.assert
}

/**
 * True when a dot path ("user.id") leads to a value, null included.
 */
function hasPath(values: SessionData, path: string): boolean {
  let current: unknown = values
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) {
      return false
    }
    current = (current as Record<string, unknown>)[segment]
  }
  return current !== undefined
}

/**
 * Assert that a dot path is present in (or absent from) session values.
 */
function assertPath(
  response: ApiResponse,
  values: SessionData,
  path: string,
  expected: { present: boolean; where: string }
) {
  const verb = expected.present ? 'to hold' : 'not to hold'
  assertOf(response).assert(
    hasPath(values, path) === expected.present,
    `expected the ${expected.where} ${verb} "${path}", got ${JSON.stringify(values)}`
  )
}

/**
 * The flashed validation messages by field: `inputErrorsBag`, or the legacy `errors`.
 */
function validationErrorsOf(response: ApiResponse): Record<string, string[]> {
  return response.flashMessage('inputErrorsBag') ?? response.flashMessage('errors') ?? {}
}

/**
 * Add the session macros to the API client classes and the hooks that seed
 * each request's session and load it after the response.
 */
function registerMacros() {
  ApiRequest.getter('sessionClient', () => SessionClient.fromManager(activeManager!), true)
  ApiRequest.macro('withSession', function (this: ApiRequest, values: SessionData) {
    this.sessionClient.merge(values)
    return this
  })
  ApiRequest.macro('withFlashMessages', function (this: ApiRequest, values: SessionData) {
    this.sessionClient.flash(values)
    return this
  })

  ApiResponse.macro('session', function (this: ApiResponse, key?: string) {
    return key ? new ReadOnlyValuesStore(this.sessionBag.values).get(key) : this.sessionBag.values
  })
  ApiResponse.macro('flashMessages', function (this: ApiResponse) {
    return this.sessionBag.flashMessages
  })
  ApiResponse.macro('flashMessage', function (this: ApiResponse, key: string) {
    return new ReadOnlyValuesStore(this.sessionBag.flashMessages).get(key)
  })
  ApiResponse.macro('assertSession', function (this: ApiResponse, key: string, value?: any) {
    assertPath(this, this.session(), key, { present: true, where: 'session' })
    if (value !== undefined) {
      assertOf(this).deepEqual(this.session(key), value)
    }
  })
  ApiResponse.macro('assertSessionMissing', function (this: ApiResponse, key: string) {
    assertPath(this, this.session(), key, { present: false, where: 'session' })
  })
  ApiResponse.macro('assertFlashMessage', function (this: ApiResponse, key: string, value?: any) {
    assertPath(this, this.flashMessages(), key, { present: true, where: 'flash messages' })
    if (value !== undefined) {
      assertOf(this).deepEqual(this.flashMessage(key), value)
    }
  })
  ApiResponse.macro('assertFlashMissing', function (this: ApiResponse, key: string) {
    assertPath(this, this.flashMessages(), key, { present: false, where: 'flash messages' })
  })
  ApiResponse.macro('assertHasValidationError', function (this: ApiResponse, field: string) {
    assertOf(this).property(validationErrorsOf(this), field)
  })
  ApiResponse.macro(
    'assertDoesNotHaveValidationError',
    function (this: ApiResponse, field: string) {
      assertOf(this).notProperty(validationErrorsOf(this), field)
    }
  )
  ApiResponse.macro(
    'assertValidationError',
    function (this: ApiResponse, field: string, message: string) {
      assertOf(this).include(validationErrorsOf(this)[field] ?? [], message)
    }
  )
  ApiResponse.macro(
    'assertValidationErrors',
    function (this: ApiResponse, field: string, messages: string[]) {
      assertOf(this).deepEqual(validationErrorsOf(this)[field] ?? [], messages)
    }
  )

  ApiClient.onRequest((request) => {
    request.setup(async () => {
      const client = request.sessionClient
      await client.commit()
      request.cookiesJar[client.cookieName] = {
        name: client.cookieName,
        value: client.signedSessionId(),
      }
      return async (error: unknown) => {
        if (error) {
          await client.destroy()
        }
      }
    })
    request.teardown(async (response) => {
      const client = request.sessionClient
      const sessionId = sessionIdOf(response, client) ?? client.sessionId
      response.sessionBag = await client.load(sessionId)
      await client.destroy(sessionId)
      if (sessionId !== client.sessionId) {
        await client.destroy()
      }
    })
  })
}

/**
 * The session plugin of `@japa/api-client`: switches the app to the memory
 * store, seeds each request's session (`withSession`, `withFlashMessages`) and
 * adds session reads and assertions to responses.
 *
 * @example
 * // tests/bootstrap.ts
 * export const plugins = [assert(), apiClient(), sessionApiClient(app), pluginAdonisJS(app)]
 */
export function sessionApiClient(
  app: ApplicationService,
  options: SessionApiClientOptions = {}
): PluginFn {
  return async function sessionApiClientPlugin() {
    activeManager = await sessionManagerForTests(app, options.store)
    if (!registered) {
      registered = true
      registerMacros()
    }
  }
}
