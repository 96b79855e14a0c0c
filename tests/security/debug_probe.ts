/**
 * Run by `runDebugProbe()` in a child process with NODE_DEBUG=adonis-satchel:
 * drives real apps through the moments that log (new session, login with
 * regenerate, read-only visit, rejected cookies, a corrupt stored payload, a
 * store that does not answer, logout) and prints, as the last stdout line, the
 * JSON list of every raw session id and cookie value it saw or sent.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SessionStoreFactory } from '../../src/types.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { bootSecurityApp, COOKIE_NAME, rawGet, sessionIdOf, signId } from './helpers.js'
import type { CookieClient } from '../../tests_helpers/index.js'

const secrets = new Set<string>()

/** Remember every id and cookie value a client holds. */
function remember(client: CookieClient) {
  const id = sessionIdOf(client)
  if (id) secrets.add(id)
  for (const [name, value] of client.jar) {
    secrets.add(value)
    secrets.add(decodeURIComponent(value))
    if (name !== COOKIE_NAME) secrets.add(name)
  }
}

/** A cookie value with one character changed in the middle. */
function flipped(value: string): string {
  const middle = Math.floor(value.length / 2)
  return `${value.slice(0, middle)}${value[middle] === 'A' ? 'B' : 'A'}${value.slice(middle + 1)}`
}

const fileApp = await bootSecurityApp({
  store: 'file',
  routes: (router) =>
    router.get('/public', ({ response, session }) => {
      response.header('cache-control', 'public, max-age=60')
      session.put('public', true)
      return 'cached?'
    }),
})
const client = fileApp.client()
await client.post('/put', { step: 'first' })
remember(client)
const visitor = fileApp.client()
await visitor.get('/public')
remember(visitor)
await client.request('/login', { method: 'POST', body: { user: '7' } })
remember(client)
await client.get('/read')
remember(client)

const raw = decodeURIComponent(client.jar.get(COOKIE_NAME)!)
const rejected = [
  flipped(raw),
  raw.slice(0, 30),
  signId(sessionIdOf(client), 'another-key-of-16-chars'),
]
for (const value of [...rejected, 'x'.repeat(5000)]) {
  secrets.add(value)
  await rawGet(fileApp.url, '/read', { cookie: `${COOKIE_NAME}=${encodeURIComponent(value)}` })
}

const corrupt = fileApp.client()
await corrupt.post('/put', { step: 'to corrupt' })
remember(corrupt)
const corruptId = sessionIdOf(corrupt)!
await writeFile(join(fileApp.location, `${corruptId}.txt`), '{"message": not json')
await corrupt.get('/read')
await client.post('/logout')
remember(client)
await fileApp.close()

const cookieApp = await bootSecurityApp({ store: 'cookie' })
const cookieClient = cookieApp.client()
await cookieClient.post('/put', { step: 'cookie' })
remember(cookieClient)
const cookieId = sessionIdOf(cookieClient)!
const dataCookie = decodeURIComponent(cookieClient.jar.get(cookieId)!)
secrets.add(flipped(dataCookie))
await rawGet(cookieApp.url, '/read', {
  cookie: `${COOKIE_NAME}=${cookieClient.jar.get(COOKIE_NAME)}; ${cookieId}=${encodeURIComponent(flipped(dataCookie))}`,
})
await cookieApp.close()

const hanging = new MemoryStore(60)
const hangingEntry: SessionStoreFactory = Object.assign(
  () => Object.assign(Object.create(hanging), { read: () => new Promise(() => {}) }),
  { shared: true }
)
const slowApp = await bootSecurityApp({
  store: 'hanging',
  extraStores: { hanging: hangingEntry },
  session: { storeTimeout: 100 },
})
const stuck = slowApp.client()
stuck.jar.set(COOKIE_NAME, encodeURIComponent(signId(corruptId)))
await stuck.get('/read')
await slowApp.close()

const echoing: SessionStoreFactory = Object.assign(
  () =>
    Object.assign(Object.create(hanging), {
      write: (id: string) => {
        throw new Error(`duplicate key value: Key (id)=(${id}) already exists`)
      },
    }),
  { shared: true }
)
const echoingApp = await bootSecurityApp({ store: 'echoing', extraStores: { echoing } })
const echoed = echoingApp.client()
const failed = await echoed.post('/put', { step: 'echoing store' })
remember(echoed)
process.stderr.write(`echoing store answered ${failed.status}: ${failed.text}\n`)
await echoingApp.close()

console.log(JSON.stringify([...secrets].filter((secret) => secret.length >= 16)))
