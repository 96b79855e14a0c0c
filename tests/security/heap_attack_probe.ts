/**
 * The heap attack of issue 17, run in a child process with a small heap:
 * cookie-less POSTs of a failing form with one 900 KB field against one
 * store. Prints one JSON line: statuses, heap used after a full collection
 * before and after the requests, and the largest heap seen in between.
 *
 * node --expose-gc --max-old-space-size=96 --import=ts-node-maintained/register/esm \
 *   tests/security/heap_attack_probe.ts <store> <requests> [flashInputLimits as JSON]
 */
import vine from '@vinejs/vine'
import { bootSecurityApp, type StoreName } from './helpers.js'

const [store, requestsArgument, limitsArgument] = process.argv.slice(2)
const requests = Number(requestsArgument ?? 300)
const collect = (globalThis as { gc?: () => void }).gc
if (!collect) {
  throw new Error('Run the heap attack probe with --expose-gc')
}

const signup = vine.compile(vine.object({ email: vine.string().email() }))
const app = await bootSecurityApp({
  store: store as StoreName,
  withExceptionHandler: true,
  session: limitsArgument ? { flashInputLimits: JSON.parse(limitsArgument) } : {},
  routes: (router) =>
    router.post('/signup', async ({ request }) => {
      await signup.validate(request.all())
      return { ok: true }
    }),
})

/** Heap used once everything unreachable is collected. */
function settledHeap(): number {
  collect!()
  collect!()
  return process.memoryUsage().heapUsed
}

const body = JSON.stringify({ email: 'not-an-email', comment: 'x'.repeat(900 * 1024) })
const statuses: Record<number, number> = {}
const before = settledHeap()
let peak = before
for (let index = 0; index < requests; index++) {
  const response = await fetch(`${app.url}/signup`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'accept': 'text/html', 'referer': '/form' },
    redirect: 'manual',
  })
  await response.arrayBuffer()
  statuses[response.status] = (statuses[response.status] ?? 0) + 1
  peak = Math.max(peak, process.memoryUsage().heapUsed)
  if ((index + 1) % 50 === 0) {
    process.stderr.write(`after ${index + 1} requests: heap ${process.memoryUsage().heapUsed}\n`)
  }
}
const after = settledHeap()
await app.close()
console.log(JSON.stringify({ store, requests, statuses, before, after, peak }))
