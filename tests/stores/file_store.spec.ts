import { test } from '@japa/runner'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { setTimeout as sleep } from 'node:timers/promises'
import { newSessionId, storeConformanceSuite } from '../../factories/store_conformance.js'
import { encodePayload, METADATA_KEY } from '../../src/payload.js'
import { FileStore } from '../../src/stores/file.js'
import { createStoreApp, temporaryFolder } from '../../tests_helpers/store_matrix.js'

const conformanceLocation = temporaryFolder('file_store_conformance')

storeConformanceSuite({
  name: 'FileStore',
  createStore: (age) => new FileStore(conformanceLocation, age),
  cleanup: () => rm(conformanceLocation, { recursive: true, force: true }),
  tagging: true,
  merge: true,
})

const uncachedLocation = temporaryFolder('file_store_conformance_uncached')

storeConformanceSuite({
  name: 'FileStore without caches',
  createStore: (age) => new FileStore(uncachedLocation, age, { cacheBytes: 0 }),
  cleanup: () => rm(uncachedLocation, { recursive: true, force: true }),
  tagging: true,
  merge: true,
})

test.group('FileStore', (group) => {
  let folder: string
  group.each.setup(() => {
    folder = temporaryFolder('file_store')
    return () => rm(folder, { recursive: true, force: true })
  })

  test('create the location when missing and write <sessionId>.txt in the official format', async ({
    assert,
  }) => {
    const nested = join(folder, 'deeper', 'sessions')
    const store = new FileStore(nested, 60)
    const id = newSessionId()
    await store.write(id, { user: 1 })
    assert.deepEqual((await readdir(nested)).sort(), ['.spare', `${id}.txt`].sort())
    assert.equal(
      await readFile(join(nested, `${id}.txt`), 'utf8'),
      `{"message":{"user":1},"purpose":"${id}"}`
    )
  })

  test('read what another process wrote, although this one remembers the file', async ({
    assert,
  }) => {
    const ours = new FileStore(folder, 60)
    const theirs = new FileStore(folder, 60)
    const id = newSessionId()
    await ours.write(id, { by: 'ours' })
    assert.deepEqual(await ours.read(id), { by: 'ours' })
    await theirs.write(id, { by: 'theirs' })
    assert.deepEqual(await ours.read(id), { by: 'theirs' })
    await ours.touch(id)
    await theirs.write(id, { by: 'them again' })
    assert.deepEqual(await ours.read(id), { by: 'them again' })
  })

  test('read a file rewritten in place with the same size', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    const id = newSessionId()
    const path = join(folder, `${id}.txt`)
    await store.write(id, { n: 1 })
    assert.deepEqual(await store.read(id), { n: 1 })
    await sleep(20)
    await writeFile(path, `{"message":{"n":2},"purpose":"${id}"}`)
    assert.deepEqual(await store.read(id), { n: 2 })
  })

  test('write atomically: a concurrent reader never sees a torn file', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    const id = newSessionId()
    const path = join(folder, `${id}.txt`)
    await store.write(id, { round: -1 })
    let writing = true
    let torn = 0
    let reads = 0
    const reader = (async () => {
      while (writing) {
        const contents = await readFile(path, 'utf8').catch(() => '')
        reads++
        try {
          JSON.parse(contents)
        } catch {
          torn++
        }
      }
    })()
    const big = 'x'.repeat(1024 * 1024)
    for (let round = 0; round < 20; round++) {
      await store.write(id, { round, big })
    }
    writing = false
    await reader
    assert.isAbove(reads, 0)
    assert.equal(torn, 0)
    assert.deepEqual((await readdir(folder)).sort(), ['.spare', `${id}.txt`].sort())
  })

  test('two threads writing and reading the same sessions never see a torn or missing file', async ({
    assert,
  }) => {
    const ids = Array.from({ length: 4 }, () => newSessionId())
    const seed = new FileStore(folder, 60)
    for (const id of ids) seed.write(id, { worker: -1, round: -1, filler: '' })
    const results = await Promise.all(
      [0, 1].map(
        (worker) =>
          new Promise<{ torn: number; missing: number }>((resolve, reject) => {
            const thread = new Worker(
              new URL('../../tests_helpers/file_store_worker.ts', import.meta.url),
              { workerData: { location: folder, ids, rounds: 1000, worker } }
            )
            thread.once('message', resolve)
            thread.once('error', reject)
          })
      )
    )
    assert.deepEqual(results, [
      { torn: 0, missing: 0 },
      { torn: 0, missing: 0 },
    ])
    const names = await readdir(join(folder, '.spare'))
    assert.isAtMost(names.length, 32, 'at most 16 spares per writer')
  }).timeout(60_000)

  test('read an expired file as no session and remove it', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    const path = join(folder, `${id}.txt`)
    const past = new Date(Date.now() - 61_000)
    await utimes(path, past, past)
    assert.isNull(await store.read(id))
    assert.isFalse(existsSync(path))
  })

  test('read a corrupt or foreign file as no session and remove it', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    const [corrupt, foreign] = [newSessionId(), newSessionId()]
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, `${corrupt}.txt`), '{"message":{"a":')
    await writeFile(join(folder, `${foreign}.txt`), `{"message":{"a":1},"purpose":"${corrupt}"}`)
    assert.isNull(await store.read(corrupt))
    assert.isNull(await store.read(foreign))
    assert.deepEqual(await readdir(folder), [])
  })

  test('prune turns 1,000 expired session files into 0 and keeps live ones', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    const past = new Date(Date.now() - 61_000)
    const ids = Array.from({ length: 1000 }, () => newSessionId())
    await Promise.all(ids.map((id) => store.write(id, { id })))
    await Promise.all(ids.map((id) => utimes(join(folder, `${id}.txt`), past, past)))
    const live = newSessionId()
    await store.write(live, { live: true })
    assert.equal(await store.prune(), 1000)
    assert.deepEqual((await readdir(folder)).sort(), ['.spare', `${live}.txt`].sort())
  })

  test('prune removes the spare files a writer left behind once they are older than the age', async ({
    assert,
  }) => {
    const store = new FileStore(folder, 60)
    const id = newSessionId()
    for (let round = 0; round < 10; round++) {
      await store.write(id, { round })
    }
    const spareFolder = join(folder, '.spare')
    const spares = await readdir(spareFolder)
    assert.isAbove(spares.length, 0)
    assert.equal(await store.prune(), 0)
    const past = new Date(Date.now() - 61_000)
    await Promise.all(spares.map((name) => utimes(join(spareFolder, name), past, past)))
    assert.equal(await store.prune(), spares.length)
    assert.deepEqual(await readdir(spareFolder), [])
    await store.write(id, { round: 'after prune' })
    assert.deepEqual(await store.read(id), { round: 'after prune' })
  })

  test('prune a missing location quietly', async ({ assert }) => {
    assert.equal(await new FileStore(join(folder, 'never-created'), 60).prune(), 0)
  })

  test('never use an invalid session id as a path', async ({ assert }) => {
    const store = new FileStore(join(folder, 'sessions'), 60)
    const outside = join(folder, 'outside.txt')
    await mkdir(join(folder, 'sessions'), { recursive: true })
    await writeFile(outside, `{"message":{"stolen":true},"purpose":"../outside"}`)
    for (const id of ['../outside', '..%2foutside', '/etc/passwd', 'a/../../outside', '']) {
      await assert.rejects(() => store.read(id), /invalid session id/)
      await assert.rejects(() => store.write(id, { a: 1 }), /invalid session id/)
      await assert.rejects(() => store.destroy(id), /invalid session id/)
      await assert.rejects(() => store.touch(id), /invalid session id/)
    }
    assert.isTrue(existsSync(outside))
    assert.deepEqual(await readdir(dirname(outside)), ['outside.txt', 'sessions'])
  })

  test('hand out a fresh copy on every read of an unchanged file, and the new data once it changes', async ({
    assert,
  }) => {
    const store = new FileStore(folder, 60)
    const id = newSessionId()
    await store.write(id, { cart: { items: [1] } })
    for (let read = 0; read < 4; read++) {
      const data = (await store.read(id))!
      assert.deepEqual(data, { cart: { items: [1] } }, `read ${read + 1}`)
      ;(data.cart as { items: number[] }).items.push(read)
    }
    await store.write(id, { cart: { items: [2] } })
    for (let read = 0; read < 3; read++) {
      assert.deepEqual(await store.read(id), { cart: { items: [2] } })
    }
  })

  test('remember nothing of session files that were only written', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    for (let index = 0; index < 100; index++) {
      await store.write(newSessionId(), { input: 'x'.repeat(10_000) })
    }
    assert.equal(store.cachedBytes, 0)
  })

  test('keep what it remembers of files read again within cacheBytes', async ({ assert }) => {
    const store = new FileStore(folder, 60, { cacheBytes: 200_000 })
    const ids = Array.from({ length: 60 }, () => newSessionId())
    for (const [index, id] of ids.entries()) {
      await store.write(id, { index, text: 'x'.repeat(5000) })
      await store.read(id)
      await store.read(id)
      assert.isAtMost(store.cachedBytes, 200_000)
    }
    assert.isAbove(store.cachedBytes, 100_000)
    for (const [index, id] of ids.entries()) {
      assert.equal((await store.read(id))!.index, index)
    }
  })

  test('keep the remembered contents of a session read here current when it writes it', async ({
    assert,
  }) => {
    const store = new FileStore(folder, 60)
    const id = newSessionId()
    await store.write(id, { step: 1 })
    await store.read(id)
    const afterRead = store.cachedBytes
    await store.write(id, { step: 2, more: 'x'.repeat(100) })
    assert.isAbove(store.cachedBytes, afterRead)
    assert.deepEqual(await store.read(id), { step: 2, more: 'x'.repeat(100) })
  })

  test('touch moves the expiry without changing the contents', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    const id = newSessionId()
    await store.write(id, { a: 1 })
    const path = join(folder, `${id}.txt`)
    const earlier = new Date(Date.now() - 30_000)
    await utimes(path, earlier, earlier)
    const before = await readFile(path, 'utf8')
    await sleep(5)
    await store.touch(id)
    assert.isAbove((await stat(path)).mtimeMs, earlier.getTime() + 29_000)
    assert.equal(await readFile(path, 'utf8'), before)
  })
})

test.group('FileStore | through HTTP', () => {
  test('give a fresh session for a correctly signed id cookie that is not an id, touching no file', async ({
    assert,
    cleanup,
  }) => {
    const { client, manager, location, close } = await createStoreApp('file')
    cleanup(close)
    await client.post('/session/call', { calls: [['put', 'a', 1]] })
    const outside = join(dirname(location), 'outside.txt')
    await writeFile(outside, `{"message":{"stolen":true},"purpose":"../outside"}`)
    cleanup(() => rm(outside, { force: true }))
    const forged = manager.cookies.keyRing.sign('../outside', 'adonis_session')
    const response = await client.get('/session', {
      cookie: `adonis_session=${encodeURIComponent(forged)}`,
    })
    assert.equal(response.status, 200)
    assert.include(response.json(), { fresh: true, isEmpty: true })
    assert.isTrue(existsSync(outside))
  })
})

test.group('FileStore | tag index', (group) => {
  let folder: string
  group.each.setup(() => {
    folder = temporaryFolder('file_store_tags')
    return () => rm(folder, { recursive: true, force: true })
  })

  /** Session data whose metadata names a user. */
  const ownedBy = (userId: string, values: Record<string, unknown> = {}) => ({
    ...values,
    [METADATA_KEY]: { userId, createdAt: Date.now(), lastSeenAt: Date.now() },
  })

  /** The session ids linked in each user folder of the index. */
  async function links(): Promise<string[][]> {
    const tags = join(folder, '.tags')
    const folders = (await readdir(tags)).filter((name) => name !== '.complete')
    return Promise.all(folders.map(async (name) => (await readdir(join(tags, name))).sort()))
  }

  test('list a user from the index, not from every session file', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    const [first, second, other] = [newSessionId(), newSessionId(), newSessionId()]
    store.write(first, ownedBy('7', { n: 1 }))
    store.write(second, ownedBy('7', { n: 2 }))
    store.write(other, ownedBy('8'))
    for (let index = 0; index < 50; index++) store.write(newSessionId(), { anonymous: index })
    assert.sameMembers(
      (await store.tagged('7')).map(({ id }) => id),
      [first, second]
    )
    const unlinked = newSessionId()
    await writeFile(join(folder, `${unlinked}.txt`), encodePayload(unlinked, ownedBy('7')))
    assert.lengthOf(await store.tagged('7'), 2)
    assert.sameDeepMembers(await links(), [[first, second].sort(), [other]])
  })

  test('index the sessions stored before the index existed, once', async ({ assert }) => {
    await mkdir(folder, { recursive: true })
    const [first, second] = [newSessionId(), newSessionId()]
    await writeFile(join(folder, `${first}.txt`), encodePayload(first, ownedBy('7')))
    await writeFile(join(folder, `${second}.txt`), encodePayload(second, ownedBy('8')))
    const store = new FileStore(folder, 60)
    assert.deepEqual(
      (await store.tagged('7')).map(({ id }) => id),
      [first]
    )
    assert.isTrue(existsSync(join(folder, '.tags', '.complete')))
    assert.deepEqual(
      (await new FileStore(folder, 60).tagged('8')).map(({ id }) => id),
      [second]
    )
  })

  test('follow a session to its new user and drop the old link', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    const id = newSessionId()
    store.write(id, { a: 1 })
    store.tag(id, 7)
    store.tag(id, 8)
    assert.deepEqual(await new FileStore(folder, 60).tagged('7'), [])
    assert.deepEqual(
      (await store.tagged('8')).map((session) => session.id),
      [id]
    )
    assert.deepEqual(await links(), [[id]])
  })

  test('drop the link of a destroyed session, also one destroyed by another process', async ({
    assert,
  }) => {
    const store = new FileStore(folder, 60)
    const [mine, theirs] = [newSessionId(), newSessionId()]
    store.write(mine, ownedBy('7'))
    store.write(theirs, ownedBy('7'))
    store.read(mine)
    store.write(mine, ownedBy('7', { again: true }))
    store.destroy(mine)
    assert.deepEqual(await links(), [[theirs]])
    new FileStore(folder, 60).destroy(theirs)
    assert.deepEqual(await store.tagged('7'), [])
    assert.deepEqual(await links(), [])
  })

  test('leave expired sessions out, and prune their links and the folders left empty', async ({
    assert,
  }) => {
    const store = new FileStore(folder, 1)
    const [expired, live] = [newSessionId(), newSessionId()]
    store.write(expired, ownedBy('7'))
    store.write(live, ownedBy('8'))
    const past = new Date(Date.now() - 5000)
    await utimes(join(folder, `${expired}.txt`), past, past)
    assert.deepEqual(await store.tagged('7'), [])
    store.write(expired, ownedBy('7'))
    await utimes(join(folder, `${expired}.txt`), past, past)
    await store.prune()
    assert.isFalse(existsSync(join(folder, `${expired}.txt`)))
    assert.deepEqual(await links(), [[live]])
  })

  test('list a user without blocking the event loop', async ({ assert }) => {
    const store = new FileStore(folder, 60)
    for (let index = 0; index < 20; index++) store.write(newSessionId(), ownedBy('7'))
    let turns = 0
    const counting = setInterval(() => turns++, 0)
    const sessions = await store.tagged('7')
    clearInterval(counting)
    assert.lengthOf(sessions, 20)
    assert.isAbove(turns, 0)
  })
})
