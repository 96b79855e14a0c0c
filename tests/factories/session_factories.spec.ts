import { test } from '@japa/runner'
import { AppFactory } from '@adonisjs/core/factories/app'
import { EmitterFactory } from '@adonisjs/core/factories/events'
import type { ApplicationService, EmitterService } from '@adonisjs/core/types'
import { createHttpContext, setCookiesOf } from '../../tests_helpers/http_context.js'
import {
  SessionFactory,
  SessionManagerFactory,
  SessionMiddlewareFactory,
} from '../../factories/main.js'

/**
 * The Cookie header a browser would send back for a response's Set-Cookie lines.
 */
function cookieHeaderFrom(lines: string[]): string {
  return lines.map((line) => line.split(';')[0]).join('; ')
}

test.group('SessionMiddlewareFactory', () => {
  test('create a middleware that loads and commits sessions', async ({ assert }) => {
    const middleware = await new SessionMiddlewareFactory().create()
    const first = createHttpContext()
    await middleware.handle(first, async () => first.session.put('visits', 1))
    const second = createHttpContext({ cookie: cookieHeaderFrom(setCookiesOf(first)) })
    await middleware.handle(second, async () => second.session.increment('visits'))
    assert.equal(second.session.get('visits'), 2)
    assert.isFalse(second.session.fresh)
  })

  test('use the config given to merge', async ({ assert }) => {
    const middleware = await new SessionMiddlewareFactory()
      .merge({ config: { store: 'memory', stores: {}, cookieName: 'cart_session', age: 60 } })
      .create()
    const ctx = createHttpContext()
    await middleware.handle(ctx, async () => ctx.session.put('cart', [1]))
    assert.match(setCookiesOf(ctx)[0], /^cart_session=s%3A.+; Max-Age=60;/)
  })

  test('emit session events on the given emitter', async ({ assert }) => {
    const app = new AppFactory().create(new URL('./', import.meta.url)) as ApplicationService
    app.useConfig({})
    await app.init()
    await app.boot()
    const emitter = new EmitterFactory().create(app) as unknown as EmitterService
    const committed: string[] = []
    emitter.on('session:committed', ({ session }) => {
      committed.push(session.sessionId)
    })
    const middleware = await new SessionMiddlewareFactory().merge({ app, emitter }).create()
    const ctx = createHttpContext()
    await middleware.handle(ctx, async () => ctx.session.put('visits', 1))
    assert.deepEqual(committed, [ctx.session.sessionId])
  })
})

test.group('SessionFactory', () => {
  test('create an initiated session for a context', async ({ assert }) => {
    const factory = new SessionFactory()
    const ctx = createHttpContext()
    const session = await factory.create(ctx)
    assert.strictEqual(ctx.session, session)
    assert.isTrue(session.initiated)
    session.put('cart', [1])
    await session.commit()
    const next = createHttpContext({ cookie: cookieHeaderFrom(setCookiesOf(ctx)) })
    assert.deepEqual((await factory.create(next)).get('cart'), [1])
  })

  test('open sessions read-only on request', async ({ assert }) => {
    const session = await new SessionFactory().create(createHttpContext(), { readonly: true })
    assert.isTrue(session.readonly)
    assert.throws(() => session.put('cart', [1]), /readonly mode/)
  })
})

test.group('SessionManagerFactory', () => {
  test('sign the id cookie with the given app key', async ({ assert }) => {
    const manager = await new SessionManagerFactory()
      .merge({ appKey: 'a-key-for-this-test-only-1234' })
      .create()
    const other = await new SessionManagerFactory().create()
    const signed = manager.cookies.keyRing.sign('an-id-of-a-session-1234', 'adonis_session')
    assert.equal(
      manager.cookies.keyRing.unsign(signed, 'adonis_session')?.value,
      'an-id-of-a-session-1234'
    )
    assert.isNull(other.cookies.keyRing.unsign(signed, 'adonis_session'))
  })

  test('fail on a config defineConfig refuses', async ({ assert }) => {
    await assert.rejects(
      () => new SessionManagerFactory().merge({ config: { store: 'redis', stores: {} } }).create(),
      /"store" is "redis", which is not a configured store/
    )
  })
})
