import { test } from '@japa/runner'
import { privateCacheControl } from '../src/cache_control.js'

test.group('privateCacheControl', () => {
  test('turn public into private and drop the directives only shared caches use', ({ assert }) => {
    assert.equal(privateCacheControl('public, max-age=60'), 'private, max-age=60')
    assert.equal(privateCacheControl('PUBLIC,S-MAXAGE=600,max-age=5'), 'private, max-age=5')
    assert.equal(privateCacheControl('max-age=60, proxy-revalidate'), 'private, max-age=60')
    assert.equal(privateCacheControl('no-cache'), 'private, no-cache')
    assert.equal(privateCacheControl('immutable, max-age=9'), 'private, immutable, max-age=9')
  })

  test('leave private and no-store responses as the app wrote them', ({ assert }) => {
    assert.equal(privateCacheControl('private, max-age=60'), 'private, max-age=60')
    assert.equal(privateCacheControl('no-store'), 'no-store')
    assert.equal(privateCacheControl('public, no-store'), 'public, no-store')
  })
})
