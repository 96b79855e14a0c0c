/**
 * The session middleware's own cost per request, without HTTP: one real
 * HttpContext (from @adonisjs/core's factories) goes through
 * `SessionMiddleware.handle` in a loop, with a returning visitor's cookie, on
 * the memory or cookie store. Steadier than the load test (no sockets, no load
 * generator), so small changes to the hot path show; a hot loop keeps caches
 * warm, so a request in a real app costs more than this.
 *
 * Usage: npm run bench:hot [-- memory|cookie [none|read|write|flash [iterations]]]
 */
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { HttpContextFactory, RequestFactory, ResponseFactory } from '@adonisjs/core/factories/http'
import type { HttpContext } from '@adonisjs/core/http'
import { SessionMiddlewareFactory } from '../factories/main.js'
import { stores } from '../index.js'

const STORES = ['memory', 'cookie'] as const
const ROUTES = ['none', 'read', 'write', 'flash'] as const
const ROUNDS = 5

const [storeName = 'memory', route = 'read', iterationsText = '100000'] = process.argv.slice(2)
if (!STORES.includes(storeName as any) || !ROUTES.includes(route as any)) {
  throw new Error(
    `Usage: bench/hot_loop.ts [${STORES.join('|')}] [${ROUTES.join('|')}] [iterations]`
  )
}
const iterations = Number(iterationsText)

const middleware = await new SessionMiddlewareFactory()
  .merge({
    config: {
      store: storeName,
      stores: storeName === 'cookie' ? { cookie: stores.cookie() } : {},
      age: '2h',
      cookieName: 'adonis-session',
      cookie: { path: '/', httpOnly: true, sameSite: 'lax' },
    },
  })
  .create()

/**
 * A real HttpContext over a request that carries `cookie`.
 */
function contextWith(cookie: string | undefined): HttpContext {
  const request = new IncomingMessage(new Socket())
  request.url = '/'
  if (cookie) request.headers.cookie = cookie
  const response = new ServerResponse(request)
  return new HttpContextFactory()
    .merge({
      request: new RequestFactory().merge({ req: request, res: response }).create(),
      response: new ResponseFactory().merge({ req: request, res: response }).create(),
    })
    .create()
}

const seeding = contextWith(undefined)
await middleware.handle(seeding, async () => seeding.session.put('visits', 1))
const cookie = [seeding.response.getHeader('set-cookie')]
  .flat()
  .map((line) => String(line).split(';')[0])
  .join('; ')

const ctx = contextWith(cookie)
let writes = 0
const handlers = {
  none: async () => {},
  read: async () => ctx.session.get('visits'),
  write: async () => ctx.session.put('last_write', ++writes),
  flash: async () => ctx.session.flash('notice', 'Saved'),
}
const handler = handlers[route as keyof typeof handlers]

/**
 * Run `count` requests through the middleware on the same context, clearing
 * the headers the previous one set.
 */
async function run(count: number) {
  for (let index = 0; index < count; index++) {
    ctx.response.removeHeader('cache-control')
    ctx.response.removeHeader('set-cookie')
    await middleware.handle(ctx, handler)
  }
}

await run(Math.min(20_000, iterations))
const perRequest: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  const before = process.cpuUsage()
  await run(iterations)
  const used = process.cpuUsage(before)
  perRequest.push((used.user + used.system) / iterations)
}
perRequest.sort((a, b) => a - b)
console.log(
  `${storeName} ${route}: ${perRequest[0].toFixed(2)} µs of CPU per request (best of ${ROUNDS} rounds of ${iterations}; median ${perRequest[Math.floor(ROUNDS / 2)].toFixed(2)})`
)
