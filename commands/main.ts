import type { BaseCommand } from '@adonisjs/core/ace'
import type { CommandMetaData } from '@adonisjs/core/types/ace'

/**
 * The package's commands. Each module only imports `@adonisjs/core/ace` at
 * load time, so reading their metadata on every `node ace` run costs little.
 */
const commandModules: (() => Promise<{ default: typeof BaseCommand }>)[] = [
  () => import('./session_prune.js'),
  () => import('./session_list.js'),
  () => import('./session_destroy.js'),
  () => import('./make_session_table.js'),
]

let loading: Promise<(typeof BaseCommand)[]> | undefined

function commandClasses(): Promise<(typeof BaseCommand)[]> {
  loading ??= Promise.all(commandModules.map((load) => load().then((module) => module.default)))
  return loading
}

/**
 * Ace loader contract: the metadata of every command (name, description,
 * arguments, flags, options).
 */
export async function getMetaData(): Promise<CommandMetaData[]> {
  const commands = await commandClasses()
  return commands.map((command) => command.serialize())
}

/**
 * Ace loader contract: the command class for a command name, or null.
 */
export async function getCommand(metaData: {
  commandName: string
}): Promise<typeof BaseCommand | null> {
  const commands = await commandClasses()
  return commands.find((command) => command.commandName === metaData.commandName) ?? null
}
