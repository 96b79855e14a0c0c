export * as errors from './src/errors.js'
export { configure } from './configure.js'
export { stubsRoot } from './stubs/main.js'
export { Session } from './src/session.js'
export { SessionManager } from './src/session_manager.js'
export { SessionCollection } from './src/session_collection.js'
export { defineConfig, stores } from './src/define_config.js'
export { ReadOnlyValuesStore, ValuesStore } from './src/values_store.js'
export {
  applyChanges,
  attachSnapshot,
  encodePayload,
  decodePayload,
  mergedData,
} from './src/payload.js'
