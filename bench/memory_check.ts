/**
 * The memory check, run in a child process with `--expose-gc` by `bench/run.ts`:
 * 100,000 sessions are written to, read from and touched in adonis-satchel's
 * memory store, expire, and the store is used once more (it sweeps expired
 * entries on its own). The heap after a full GC must be where it started.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { MemoryStore } from '../src/stores/memory.js'
import { generateSessionId } from '../src/session_cookies.js'
import { METADATA_KEY } from '../src/payload.js'

/**
 * What the memory check measured (bytes, and entries left in the store).
 */
export interface MemoryCheckResult {
  sessions: number
  heapBefore: number
  heapPeak: number
  heapAfter: number
  entriesAtPeak: number
  entriesAfter: number
}

/**
 * The heap in use after two full collections.
 */
function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) {
    throw new Error('The memory check needs "node --expose-gc"')
  }
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/**
 * Open `count` sessions the way a request would: write, read back, touch.
 */
function openSessions(store: MemoryStore, count: number) {
  for (let index = 0; index < count; index++) {
    const id = generateSessionId()
    const now = Date.now()
    store.write(id, {
      visits: index,
      user: { id: index, name: `User ${index}` },
      [METADATA_KEY]: { createdAt: now, lastSeenAt: now },
    })
    store.read(id)
    store.touch(id)
  }
}

/**
 * Use a throwaway store, so the baseline already holds compiled code and
 * caches. (A function of its own, so no frame keeps the store alive.)
 */
function warmUp(ageInSeconds: number) {
  openSessions(new MemoryStore(ageInSeconds), 10_000)
}

/**
 * Run the check with a store whose sessions live `ageInSeconds`.
 */
async function check(count: number, ageInSeconds: number): Promise<MemoryCheckResult> {
  warmUp(ageInSeconds)
  const heapBefore = settledHeap()

  const store = new MemoryStore(ageInSeconds)
  openSessions(store, count)
  const entriesAtPeak = store.size
  const heapPeak = settledHeap()
  await sleep(ageInSeconds * 1000 + 1100)
  store.write(generateSessionId(), { visits: 0 })
  const heapAfter = settledHeap()
  return {
    sessions: count,
    heapBefore,
    heapPeak,
    heapAfter,
    entriesAtPeak,
    entriesAfter: store.size,
  }
}

/**
 * Sessions live 3 seconds; when the machine is so busy that some expired
 * before all were created, the check runs again with a longer age.
 */
const sessions = Number(process.argv[2] ?? 100_000)
let result = await check(sessions, 3)
for (let age = 10; result.entriesAtPeak < sessions && age <= 30; age += 20) {
  result = await check(sessions, age)
}
process.send!(result)
