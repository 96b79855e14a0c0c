/**
 * A worker thread that hammers a FileStore folder shared with other workers:
 * writes payloads of changing sizes and reads them back, counting reads that
 * were torn (undecodable) or missing. Used by the file store's concurrency test.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { FileStore } from '../src/stores/file.js'

const { location, ids, rounds, worker } = workerData as {
  location: string
  ids: string[]
  rounds: number
  worker: number
}
const store = new FileStore(location, 60)
let torn = 0
let missing = 0
for (let round = 0; round < rounds; round++) {
  const id = ids[round % ids.length]
  store.write(id, { worker, round, filler: 'x'.repeat((round * 37) % 3000) })
  for (const other of ids) {
    const data = store.read(other) as { worker?: number; filler?: string } | null
    if (data === null) missing++
    else if (typeof data.worker !== 'number' || typeof data.filler !== 'string') torn++
  }
}
parentPort!.postMessage({ torn, missing })
