import { storeConformanceSuite } from '../../factories/store_conformance.js'
import { MemoryStore } from '../../src/stores/memory.js'

storeConformanceSuite({
  name: 'MemoryStore',
  createStore: (age) => new MemoryStore(age),
  tagging: true,
  merge: true,
})
