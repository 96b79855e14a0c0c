import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The folder of the package's stubs (config/session.stub, make/migration).
 */
export const stubsRoot = dirname(fileURLToPath(import.meta.url))
