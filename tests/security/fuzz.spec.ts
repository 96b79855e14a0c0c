import { test } from '@japa/runner'
import { createHash, createHmac } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { connect, type Socket } from 'node:net'
import type { Router } from '@adonisjs/core/http'
import { KeyRing } from '../../src/key_ring.js'
import { isValidSessionId } from '../../src/session_cookies.js'
import {
  APP_KEY,
  assertAvailable,
  bootSecurityApp,
  COOKIE_NAME,
  rawGet,
  sessionIdOf,
  skipUnlessAvailable,
  storeCases,
  type RawResponse,
  type SecurityApp,
  type StoreCall,
} from './helpers.js'

/**
 * Generated cookies sent to each store.
 */
const COOKIES_PER_STORE = 10_000

/**
 * Requests in flight at once.
 */
const CONCURRENCY = 8

const STORES = await storeCases(['cookie', 'memory', 'file', 'redis', 'database', 'dynamodb'])

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/**
 * A small seeded PRNG (xorshift32): the same seed gives the same cookies on
 * every run, so a failure can be replayed.
 */
class SeededRandom {
  #state: number

  constructor(seed: number) {
    this.#state = seed >>> 0 || 1
  }

  /** A float in [0, 1). */
  next(): number {
    let x = this.#state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#state = x >>> 0
    return this.#state / 4_294_967_296
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** One element of a list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]
  }

  /** A string of `length` characters drawn from `alphabet`. */
  string(alphabet: string, length: number): string {
    let result = ''
    for (let index = 0; index < length; index++)
      result += alphabet[this.int(0, alphabet.length - 1)]
    return result
  }
}

const PRINTABLE = Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index)).join('')
const HIGH_BYTES = Array.from({ length: 128 }, (_, index) => String.fromCharCode(128 + index)).join(
  ''
)
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const TRICKY = `%;=", \t\\'${HIGH_BYTES.slice(0, 8)}`
const SQL = [
  "' OR '1'='1",
  '"; DROP TABLE sessions; --',
  "1' UNION SELECT data FROM sessions --",
  "') OR 1=1 /*",
  '$where: 1',
  '{"$gt": ""}',
  '../../etc/passwd',
  '\\x00',
]
const HOSTILE_MESSAGES: unknown[] = [
  "abcdefghijklmnop' OR '1'='1",
  '../../../../etc/passwd',
  { __proto__: { polluted: true } },
  ['an', 'array'],
  { $gt: '' },
  12345678901234567890,
  null,
  'x'.repeat(4000),
  'short',
]

/**
 * `s:<payload>.<hmac>` over any text with the app key: passes the signature,
 * so the checks after it are the ones fuzzed.
 */
function signRaw(text: string, key: string = APP_KEY): string {
  const encoded = Buffer.from(text, 'latin1').toString('base64url')
  const cryptoKey = createHash('sha256').update(key).digest()
  return `s:${encoded}.${createHmac('sha256', cryptoKey).update(encoded).digest('base64url')}`
}

/**
 * A real session to replay: its cookies as the browser holds them.
 */
interface RealSession {
  secret: string
  cookies: [string, string][]
}

/**
 * Generates hostile Cookie headers from a seed: garbage, oversized, non-ASCII,
 * SQL-looking, forged, wrong-key and `__proto__`-carrying values, broken
 * syntax, and replays of real cookies with flipped characters.
 */
class CookieFuzzer {
  #random: SeededRandom
  #real: RealSession[]
  #wrongKey = new KeyRing(['a-key-the-app-has-never-seen-000'])

  constructor(seed: number, real: RealSession[]) {
    this.#random = new SeededRandom(seed)
    this.#real = real
  }

  /** The next Cookie header and whether it is a mutated replay of a real session. */
  next(): { header: string; mutated: boolean } {
    const random = this.#random
    const kind = random.int(0, 9)
    const id = (value: string) => `${COOKIE_NAME}=${value}`
    switch (kind) {
      case 0:
        return {
          header: id(random.string(PRINTABLE.replace(';', ''), random.int(0, 300))),
          mutated: false,
        }
      case 1:
        return {
          header: id(random.string(`${BASE64URL}${HIGH_BYTES}`, random.int(1, 200))),
          mutated: false,
        }
      case 2:
        return { header: id(random.string(BASE64URL, random.int(5000, 12_000))), mutated: false }
      case 3:
        return {
          header: id(encodeURIComponent(`${random.pick(SQL)}${random.string(BASE64URL, 4)}`)),
          mutated: false,
        }
      case 4:
        return {
          header: id(
            `s%3A${random.string(BASE64URL, random.int(10, 120))}.${random.string(BASE64URL, 43)}`
          ),
          mutated: false,
        }
      case 5:
        return { header: id(encodeURIComponent(this.#hostileSigned())), mutated: false }
      case 6:
        return {
          header: id(
            encodeURIComponent(this.#wrongKey.sign(random.string(BASE64URL, 24), COOKIE_NAME))
          ),
          mutated: false,
        }
      case 7:
        return { header: this.#brokenSyntax(), mutated: false }
      default:
        return { header: this.#mutatedReplay(), mutated: true }
    }
  }

  /** A value signed with the app key whose message is not a usable id. */
  #hostileSigned(): string {
    const random = this.#random
    const message = random.pick(HOSTILE_MESSAGES)
    const variants = [
      () => JSON.stringify({ message, purpose: COOKIE_NAME }),
      () =>
        `{"message":"${random.string(BASE64URL, 24)}","purpose":"${COOKIE_NAME}","__proto__":{"polluted":1}}`,
      () =>
        `{"__proto__":{"message":"${random.string(BASE64URL, 24)}","purpose":"${COOKIE_NAME}"}}`,
      () => random.string(PRINTABLE, random.int(0, 80)),
      () =>
        `{"message":"${random.string(BASE64URL, 24)}","purpose":"${COOKIE_NAME}","expiryDate":"${random.pick(['garbage', '1970-01-01', ''])}"}`,
    ]
    return signRaw(random.pick(variants)())
  }

  /** Cookie header syntax a browser would never send. */
  #brokenSyntax(): string {
    const random = this.#random
    const real = random.pick(this.#real).cookies.find(([name]) => name === COOKIE_NAME)![1]
    return random.pick([
      `${COOKIE_NAME}=`,
      `${COOKIE_NAME}`,
      `=${real}`,
      `;;;${COOKIE_NAME}==${real}`,
      `${COOKIE_NAME}=${random.string(TRICKY, 20)}; ${COOKIE_NAME}=${real}x`,
      `${COOKIE_NAME}="${random.string(BASE64URL, 30)}`,
      `${COOKIE_NAME}=%${random.string('0123456789ABCDEFXYZ%', random.int(1, 6))}`,
      `${random.string(BASE64URL, 24)}=${random.string(BASE64URL, 200)}; ${COOKIE_NAME}=${real.slice(0, -1)}`,
    ])
  }

  /** A real session's cookies with one to three characters of one value changed. */
  #mutatedReplay(): string {
    const random = this.#random
    const session = random.pick(this.#real)
    const target = random.int(0, session.cookies.length - 1)
    return session.cookies
      .map(([name, value], index) => {
        const original = decodeURIComponent(value)
        let decoded = original
        // Two flips at one position can put the original character back: flip
        // again until the value differs, or the "mutated" cookie is the real one
        // and rightly opens its session.
        while (index === target && decoded === original) {
          for (let flips = random.int(1, 3); flips > 0; flips--) {
            const position = random.int(0, decoded.length - 1)
            let replacement = decoded[position]
            while (replacement === decoded[position]) {
              replacement = random.pick([...`${BASE64URL}.:${TRICKY}`])
            }
            decoded = `${decoded.slice(0, position)}${replacement}${decoded.slice(position + 1)}`
          }
        }
        return `${name}=${encodeURIComponent(decoded)}`
      })
      .join('; ')
  }
}

/**
 * A keep-alive HTTP/1.1 connection that sends requests as raw bytes and reads
 * only the status and body: a client cheap enough that the 10,000 requests
 * per store measure the server, not the client.
 */
class RawConnection {
  #socket: Socket
  #buffer = Buffer.alloc(0)
  #pending?: { resolve(response: RawResponse): void; reject(error: Error): void }
  #closed = false

  constructor(port: number) {
    this.#socket = connect(port, '127.0.0.1')
    this.#socket.setNoDelay(true)
    this.#socket.on('data', (chunk) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk])
      this.#settle()
    })
    this.#socket.on('error', () => {})
    this.#socket.on('close', () => {
      this.#closed = true
      this.#settle(true)
    })
  }

  /** False once the server closed the connection. */
  get usable(): boolean {
    return !this.#closed
  }

  /** GET `path` with a Cookie header (latin1 bytes, as a browser could send). */
  get(path: string, cookie: string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
      const head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n\r\n`
      this.#socket.write(Buffer.from(head, 'latin1'))
    })
  }

  /** Resolve the pending request once its response is complete. */
  #settle(closing = false) {
    const pending = this.#pending
    if (!pending) return
    const headerEnd = this.#buffer.indexOf('\r\n\r\n')
    if (headerEnd === -1) {
      if (closing) pending.reject(new Error('connection closed before a response'))
      if (closing) this.#pending = undefined
      return
    }
    const head = this.#buffer.toString('latin1', 0, headerEnd)
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0)
    const bodyStart = headerEnd + 4
    if (this.#buffer.length < bodyStart + length && !closing) return
    this.#pending = undefined
    const body = this.#buffer.toString('utf8', bodyStart, bodyStart + length)
    this.#buffer = this.#buffer.subarray(bodyStart + length)
    pending.resolve({ status: Number(head.slice(9, 12)), setCookies: [], body })
  }

  /** Close the connection. */
  close() {
    this.#socket.destroy()
  }
}

/**
 * The route the fuzzer hits: reads the session and answers with its secret.
 */
function fuzzRoutes(router: Router) {
  router.get('/fuzz', ({ session }) => ({ secret: session.get('secret') ?? null }))
}

/**
 * Real sessions with a secret each, as their browsers hold them.
 */
async function realSessions(app: SecurityApp, count: number): Promise<RealSession[]> {
  const sessions: RealSession[] = []
  for (let index = 0; index < count; index++) {
    const client = app.client()
    const secret = `secret-${index}`
    await client.post('/put', { secret })
    sessions.push({ secret, cookies: [...client.jar] })
    if (!sessionIdOf(client)) throw new Error('the real session has no id cookie')
  }
  return sessions
}

/**
 * What the fuzzing of one store found.
 */
interface FuzzReport {
  sent: number
  replays: number
  serverErrors: number
  transportErrors: number
  leakedSecrets: number
  statuses: Record<number, number>
  heapGrowthBytes: number
  pollutedPrototype: boolean
  uncaught: number
  milliseconds: number
  /** The first failures, to replay them. */
  samples: string[]
}

/**
 * Send `count` generated cookies to `/fuzz` with a few requests in flight.
 */
async function fuzz(app: SecurityApp, seed: number, count: number): Promise<FuzzReport> {
  const real = await realSessions(app, 5)
  for (const session of real) {
    const header = session.cookies.map(([name, value]) => `${name}=${value}`).join('; ')
    const replay = JSON.parse((await rawGet(app.url, '/fuzz', { cookie: header })).body)
    if (replay.secret !== session.secret) throw new Error('an untouched replay lost its session')
  }
  const fuzzer = new CookieFuzzer(seed, real)
  const report: FuzzReport = {
    sent: 0,
    replays: 0,
    serverErrors: 0,
    transportErrors: 0,
    leakedSecrets: 0,
    statuses: {},
    heapGrowthBytes: 0,
    pollutedPrototype: false,
    uncaught: 0,
    milliseconds: 0,
    samples: [],
  }
  const countUncaught = () => report.uncaught++
  process.on('uncaughtException', countUncaught)
  process.on('unhandledRejection', countUncaught)
  const startedAt = Date.now()
  let baseline = 0
  const port = Number(new URL(app.url).port)
  const connections: RawConnection[] = []
  const worker = async () => {
    let connection = new RawConnection(port)
    connections.push(connection)
    while (report.sent < count) {
      if (!connection.usable) {
        connection = new RawConnection(port)
        connections.push(connection)
      }
      const { header, mutated } = fuzzer.next()
      report.sent++
      if (mutated) report.replays++
      if (report.sent === Math.floor(count / 10)) {
        collectGarbage()
        baseline = process.memoryUsage().heapUsed
      }
      try {
        const response = await connection.get('/fuzz', header)
        report.statuses[response.status] = (report.statuses[response.status] ?? 0) + 1
        if (response.status >= 500) {
          report.serverErrors++
          if (report.samples.length < 5) {
            report.samples.push(
              `${response.status} for ${JSON.stringify(header.slice(0, 160))}: ${response.body.slice(0, 160)}`
            )
          }
        }
        if (response.status === 200 && JSON.parse(response.body).secret !== null) {
          report.leakedSecrets++
        }
      } catch {
        report.transportErrors++
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  report.milliseconds = Date.now() - startedAt
  for (const connection of connections) connection.close()
  collectGarbage()
  report.heapGrowthBytes = process.memoryUsage().heapUsed - baseline
  report.pollutedPrototype = 'polluted' in {}
  process.off('uncaughtException', countUncaught)
  process.off('unhandledRejection', countUncaught)
  return report
}

test.group('security | fuzz', () => {
  for (const [index, { name, availability }] of STORES.entries()) {
    test(`fuzz: ${COOKIES_PER_STORE.toLocaleString('en')} generated cookies to the ${name} store give no 5xx, no crash and a flat heap`, async ({
      assert,
      cleanup,
    }) => {
      assertAvailable(availability)
      const calls: StoreCall[] = []
      const app = await bootSecurityApp({ store: name, routes: fuzzRoutes, calls })
      cleanup(() => app.close())
      const report = await fuzz(app, 0x5a7c4e1 + index, COOKIES_PER_STORE)
      const realIds = new Set(
        calls.filter((call) => call.method === 'write').map((call) => call.sessionId)
      )
      const invalidIds = calls.filter((call) => !isValidSessionId(call.sessionId))
      const strayChanges = calls.filter(
        (call) => call.method !== 'read' && !realIds.has(call.sessionId)
      )
      console.log(`    ${name}: ${JSON.stringify(report)}`)
      assert.equal(report.sent, COOKIES_PER_STORE)
      assert.equal(report.serverErrors, 0)
      assert.equal(report.transportErrors, 0)
      assert.equal(report.uncaught, 0)
      assert.equal(report.leakedSecrets, 0)
      assert.lengthOf(realIds, 5)
      assert.deepEqual(invalidIds, [], 'the store only ever saw well-formed ids')
      assert.deepEqual(strayChanges, [], 'the store only changed the real sessions')
      assert.isFalse(report.pollutedPrototype)
      assert.isBelow(report.heapGrowthBytes, 16 * 1024 * 1024)
      const response = await rawGet(app.url, '/fuzz', {})
      assert.equal(response.status, 200)
    })
      .skip(skipUnlessAvailable(availability), availability.reason)
      .timeout(60_000)
  }
})
