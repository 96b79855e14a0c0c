export { SessionFactory } from './session_factory.js'
export { SessionMiddlewareFactory } from './session_middleware_factory.js'
export {
  FACTORY_APP_KEY,
  SessionManagerFactory,
  type SessionFactoryOptions,
} from './session_manager_factory.js'
export {
  newSessionId,
  storeConformanceSuite,
  type StoreConformanceOptions,
} from './store_conformance.js'
