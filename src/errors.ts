import { createError, Exception } from '@adonisjs/core/exceptions'

/**
 * An Exception class named after its code, as AdonisJS names its own errors:
 * terminals, logs (pino's `type`) and JSON error pages show
 * `E_INVALID_SESSION_CONFIG: …` instead of `Exception: …`.
 */
function defineError<Args extends any[] = never>(
  message: string,
  code: string,
  status: number
): ReturnType<typeof createError<Args>> {
  const Base = createError<Args>(message, code, status) as unknown as typeof Exception
  class NamedError extends Base {
    constructor(args?: any, options?: ErrorOptions) {
      super(args, options)
      this.name = code
    }

    /** `E_CODE: message`, the way its stack trace starts. */
    toString() {
      return `${this.name}: ${this.message}`
    }
  }
  Object.defineProperty(NamedError, 'name', { value: code })
  return NamedError as unknown as ReturnType<typeof createError<Args>>
}

/**
 * A write was attempted on a session opened read-only.
 */
export const E_SESSION_NOT_MUTABLE = defineError(
  'Session store is in readonly mode and cannot be mutated. Open it with "initiate(false)" to write',
  'E_SESSION_NOT_MUTABLE',
  500
)

/**
 * The session was used before the session middleware initiated it.
 */
export const E_SESSION_NOT_READY = defineError(
  'Session store has not been initiated: the session middleware has not loaded it for this request. Register the session middleware in "router.use" of "start/kernel.ts", before @adonisjs/shield and the auth middleware (or check the error logged when loading it failed)',
  'E_SESSION_NOT_READY',
  500
)

/**
 * The store in use cannot link sessions to users.
 */
export const E_SESSION_TAGGING_NOT_SUPPORTED = defineError<[string]>(
  'The "%s" session store does not support tagging sessions. Use the memory, file, redis, dynamodb or database store to list and end a user\'s sessions',
  'E_SESSION_TAGGING_NOT_SUPPORTED',
  500
)

/**
 * The cookie store's data cookie would exceed what browsers keep.
 */
export const E_SESSION_COOKIE_TOO_LARGE = defineError<[number, number]>(
  'The session data cookie is %s bytes, over the %s bytes browsers keep. Store less in the session or switch to a server-side store (file, redis, database, dynamodb)',
  'E_SESSION_COOKIE_TOO_LARGE',
  500
)

/**
 * A store call failed or did not answer in time.
 */
export const E_SESSION_STORE_UNAVAILABLE = defineError<[string, string]>(
  'The "%s" session store is unavailable: %s',
  'E_SESSION_STORE_UNAVAILABLE',
  503
)

/**
 * The app has no usable key to sign and seal session cookies; the message
 * names where the key lives on the running AdonisJS major.
 */
export const E_SESSION_INVALID_APP_KEY = defineError<[string]>(
  'Cannot sign session cookies: %s',
  'E_SESSION_INVALID_APP_KEY',
  500
)

/**
 * `config/session.ts` holds a value that cannot work.
 */
export const E_INVALID_SESSION_CONFIG = defineError<[string]>(
  'Invalid session config in "config/session.ts": %s',
  'E_INVALID_SESSION_CONFIG',
  500
)

/**
 * A value that cannot be stored as JSON was put into the session.
 */
export const E_SESSION_INVALID_VALUE = defineError<[string, string]>(
  'Cannot store the session key "%s": %s. Session values must be JSON (strings, numbers, booleans, null, objects, arrays, Dates)',
  'E_SESSION_INVALID_VALUE',
  500
)

/**
 * `increment`/`decrement` was called on a key that does not hold a number.
 */
export const E_SESSION_NOT_A_NUMBER = defineError<[string, string]>(
  'Cannot increment or decrement the session key "%s": it holds a %s, not a number',
  'E_SESSION_NOT_A_NUMBER',
  500
)

/**
 * A session Edge tag was written with the wrong argument.
 */
export const E_INVALID_SESSION_TAG = defineError<[string, string]>(
  "Invalid \"@%s\" tag in \"%s\". Write it as shown in the docs: @flashMessage('key'), @inputError('field'), @error('key') or @errors, each closed by @end",
  'E_INVALID_SESSION_TAG',
  500
)

/**
 * The Japa session plugins cannot work as set up; the message says what to change.
 */
export const E_INVALID_SESSION_TEST_SETUP = defineError<[string]>(
  'Cannot use the Japa session plugins: %s',
  'E_INVALID_SESSION_TEST_SETUP',
  500
)

/**
 * A store could not merge a request's changes because other requests kept
 * changing the same session at that very moment.
 */
export const E_SESSION_MERGE_CONFLICT = defineError<[number]>(
  'Could not save the session: other requests changed it %s times in a row while this request merged its changes. Retry the request; if it happens often, fewer parallel requests should write to the same session',
  'E_SESSION_MERGE_CONFLICT',
  409
)

/**
 * A store that lives in the request (the cookie store) was used outside HTTP.
 */
export const E_SESSION_STORE_NEEDS_REQUEST = defineError(
  'The cookie session store keeps sessions in the browser, so they cannot be read or ended outside an HTTP request. Use a server-side store (file, redis, database, dynamodb) to manage sessions from code or ace commands',
  'E_SESSION_STORE_NEEDS_REQUEST',
  500
)

/**
 * A session key reaches a prototype (`__proto__`, `constructor`, `prototype`).
 */
export const E_SESSION_INVALID_KEY = defineError<[string, string]>(
  'Invalid session key "%s": "%s" is reserved because it reaches object prototypes. Rename the key',
  'E_SESSION_INVALID_KEY',
  500
)

/**
 * Something that is not a session id was given where the API needs one.
 */
export const E_SESSION_INVALID_ID = defineError<[string]>(
  'Invalid session id given to "%s": a session id is 16 to 64 characters among A-Z, a-z, 0-9, "_" and "-". Pass the id of a session (session.sessionId, or an id from tagged()), not a cookie value or a fingerprint',
  'E_SESSION_INVALID_ID',
  400
)

/**
 * A route in the config's `skip` list asked for something only a stored
 * session can do.
 */
export const E_SESSION_SKIPPED = defineError<[string, string]>(
  'Cannot %s on "%s": the route is in the "skip" list of "config/session.ts", so its session is empty and lives only for this request. Remove the route from "skip", or open the stored session read-only with "await ctx.session.initiate(true)"',
  'E_SESSION_SKIPPED',
  500
)
