import type { PluginFn } from 'edge.js/types'

/**
 * The Edge plugin of the session: tags come with the forms work.
 */
export const edgePluginSession: PluginFn<undefined> = () => {}
