import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { storeConformanceSuite } from '../../factories/store_conformance.js'
import { FileStore } from '../../src/stores/file.js'

const location = fileURLToPath(new URL('../../tmp/file_store_conformance', import.meta.url))

storeConformanceSuite({
  name: 'FileStore',
  createStore: (age) => new FileStore(location, age),
  cleanup: () => rm(location, { recursive: true, force: true }),
  tagging: true,
  merge: true,
})
