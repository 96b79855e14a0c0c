/**
 * Ace commands of the package (session:prune, session:list, session:destroy,
 * make:session-table) are indexed from here.
 */
export const commands: never[] = []

/**
 * Ace loader contract: the command metadata.
 */
export async function getMetaData() {
  return commands
}

/**
 * Ace loader contract: a command class by name.
 */
export async function getCommand() {
  return null
}
