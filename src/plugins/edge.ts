import type { PluginFn, TagContract } from 'edge.js/types'
import { ReadOnlyValuesStore } from '../values_store.js'
import { E_INVALID_SESSION_TAG } from '../errors.js'
import debug from '../debug.js'

/**
 * The name of the Template method the compiled tags call to read a flash value.
 */
const LOOKUP_METHOD = 'sessionFlashValue'

/**
 * What a session tag reads and how it exposes it to its block.
 */
interface FlashTagDefinition {
  /** The tag name, used as `@<tagName>`. */
  tagName: string
  /** Whether the tag takes one argument (a key or field name) or none. */
  takesArgument: boolean
  /** The local variable the block sees. */
  variable: '$message' | '$messages'
  /** JavaScript source of the flash path to read, given the compiled argument. */
  path(argument: string): string
}

/**
 * The four tags: `@flashMessage` reads any flash key (dot paths allowed),
 * `@inputError` the messages of one field, `@error` one entry of `errorsBag`,
 * `@errors` the whole `errorsBag`. Field and error names are read as single
 * keys, so a field such as "contacts.0.email" works.
 */
const FLASH_TAGS: FlashTagDefinition[] = [
  {
    tagName: 'flashMessage',
    takesArgument: true,
    variable: '$message',
    path: (argument) => argument,
  },
  {
    tagName: 'inputError',
    takesArgument: true,
    variable: '$messages',
    path: (argument) => `['inputErrorsBag', String(${argument})]`,
  },
  {
    tagName: 'error',
    takesArgument: true,
    variable: '$message',
    path: (argument) => `['errorsBag', String(${argument})]`,
  },
  {
    tagName: 'errors',
    takesArgument: false,
    variable: '$messages',
    path: () => `'errorsBag'`,
  },
]

/**
 * The flash value at `path` when it is present (truthy, non-empty array), else
 * undefined. Tolerates templates rendered without a session.
 */
function flashValue(flashMessages: unknown, path: string | string[]): unknown {
  const store = flashMessages as Partial<ReadOnlyValuesStore> | undefined
  if (typeof store?.has !== 'function' || typeof store.get !== 'function' || !store.has(path)) {
    return undefined
  }
  return store.get(path)
}

/**
 * Build one block tag from its definition. The block renders only when the
 * value is present, with the value in a block-scoped local variable. A tag
 * without argument is written `@errors` or `@errors()`.
 */
function flashTag(definition: FlashTagDefinition): TagContract {
  return {
    tagName: definition.tagName,
    block: true,
    seekable: definition.takesArgument,
    compile(parser, buffer, token) {
      const source = token.properties.jsArg.trim()
      if (Boolean(source) !== definition.takesArgument) {
        throw new E_INVALID_SESSION_TAG([
          definition.tagName,
          `${token.filename}:${token.loc.start.line}`,
        ])
      }
      const argument = source
        ? parser.utils.stringify(
            parser.utils.transformAst(
              parser.utils.generateAST(source, token.loc, token.filename),
              token.filename,
              parser
            )
          )
        : ''
      const state = parser.options.statePropertyName
      const variable = definition.variable
      buffer.writeStatement(
        `{ let ${variable} = template.${LOOKUP_METHOD}(${state}.flashMessages, ${definition.path(argument)}); if (${variable} !== undefined) {`,
        token.filename,
        token.loc.start.line
      )
      parser.stack.defineScope()
      parser.stack.defineVariable(variable)
      for (const child of token.children) {
        parser.processToken(child, buffer)
      }
      parser.stack.clearScope()
      buffer.writeStatement('} }', token.filename, -1)
    },
    boot(template) {
      template.macro(LOOKUP_METHOD as any, flashValue)
    },
  }
}

/**
 * Empty stand-ins for the per-request globals, so a template rendered without a
 * session (a 404 page, a mail) reads "nothing" instead of throwing. Each request
 * with a session shares its own values over these.
 */
function registerFallbackGlobals(edge: Parameters<PluginFn<undefined>>[0]) {
  const empty = new ReadOnlyValuesStore({})
  edge.global('flashMessages', empty)
  edge.global('session', empty)
  edge.global('old', (_field: string, defaultValue?: unknown) => defaultValue)
}

/**
 * The Edge plugin of the session: the `@flashMessage`, `@inputError`, `@error`
 * and `@errors` tags, and empty `flashMessages`, `session` and `old` globals.
 * The provider registers it when the app uses Edge.
 */
export const edgePluginSession: PluginFn<undefined> = (edge, firstRun) => {
  if (!firstRun) {
    return
  }
  debug('registering the session tags with edge')
  for (const definition of FLASH_TAGS) {
    edge.registerTag(flashTag(definition))
  }
  registerFallbackGlobals(edge)
}
