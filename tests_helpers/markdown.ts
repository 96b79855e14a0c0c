import { existsSync, readFileSync, statSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, normalize, relative } from 'node:path'

/** One markdown file of the documentation, its path relative to the repository. */
export interface MarkdownFile {
  path: string
  text: string
}

/** A fenced code block: its language, the words after it, its first line and its code. */
export interface CodeBlock {
  language: string
  markers: string[]
  line: number
  code: string
}

/** A link of a markdown file, with the line it is on. */
export interface MarkdownLink {
  target: string
  line: number
}

/**
 * README.md and every markdown file under docs/, sorted by path.
 */
export async function documentationFiles(root: string): Promise<MarkdownFile[]> {
  const paths = ['README.md']
  const walk = async (folder: string) => {
    for (const entry of await readdir(join(root, folder), { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.name.endsWith('.md')) paths.push(relative('.', path))
    }
  }
  await walk('docs')
  paths.sort()
  return Promise.all(
    paths.map(async (path) => ({ path, text: await readFile(join(root, path), 'utf8') }))
  )
}

/**
 * The fenced code blocks of a markdown text. "```ts fragment" gives the
 * language `ts` and the markers `['fragment']`.
 */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  let open: { fence: string; language: string; markers: string[]; line: number } | undefined
  let code: string[] = []
  markdown.split('\n').forEach((text, index) => {
    const fence = /^(`{3,}|~{3,})\s*(.*)$/.exec(text)
    if (!open && fence) {
      const [language = '', ...markers] = fence[2].split(/\s+/).filter(Boolean)
      open = { fence: fence[1], language, markers, line: index + 1 }
      code = []
    } else if (open && fence && fence[1].startsWith(open.fence) && fence[2] === '') {
      blocks.push({ ...open, code: code.join('\n') })
      open = undefined
    } else if (open) {
      code.push(text)
    }
  })
  return blocks
}

/**
 * The text outside fenced code blocks and inline code spans, line for line, so
 * links and headings are not taken from code.
 */
function proseLines(markdown: string): string[] {
  let fence: string | undefined
  return markdown.split('\n').map((text) => {
    const marker = /^(`{3,}|~{3,})/.exec(text)?.[1]
    if (marker && (!fence || marker.startsWith(fence))) {
      fence = fence ? undefined : marker
      return ''
    }
    return fence ? '' : text.replace(/(`+)[^`]*?\1/g, '')
  })
}

/**
 * The anchor GitHub gives a heading: lowercase, without punctuation or
 * symbols, spaces turned into hyphens; a repeated heading gets `-1`, `-2`, ….
 */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  let fence: string | undefined
  for (const text of markdown.split('\n')) {
    const marker = /^(`{3,}|~{3,})/.exec(text)?.[1]
    if (marker && (!fence || marker.startsWith(fence))) {
      fence = fence ? undefined : marker
      continue
    }
    const heading = fence ? undefined : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1]
    if (heading === undefined) continue
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

/**
 * The targets of inline links and images (`[text](target)`, `![alt](target)`)
 * outside code.
 */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = []
  proseLines(markdown).forEach((text, index) => {
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ target: match[1], line: index + 1 })
    }
  })
  return links
}

/**
 * Check every relative link of the files (external `scheme:` links are left
 * out): the file must exist in the repository and an `#anchor` must be a
 * heading of the markdown file it points to. Returns how many links were
 * checked and a line per broken one.
 */
export function checkRelativeLinks(root: string, files: MarkdownFile[]) {
  const byPath = new Map(files.map((file) => [file.path, file]))
  const broken: string[] = []
  let checked = 0
  for (const file of files) {
    for (const link of markdownLinks(file.text)) {
      if (/^[a-z][a-z+.-]*:/i.test(link.target)) continue
      checked++
      const [path, anchor] = link.target.split('#')
      const target = path === '' ? file.path : normalize(join(dirname(file.path), decodeURI(path)))
      const exists = byPath.has(target) || existsSync(join(root, target))
      const page =
        byPath.get(target)?.text ??
        (exists && target.endsWith('.md') ? readFileSync(join(root, target), 'utf8') : undefined)
      let reason: string | undefined
      if (target.startsWith('..') || !exists) {
        reason = `${target} does not exist`
      } else if (anchor !== undefined && !page && statSync(join(root, target)).isFile()) {
        reason = `#${anchor} points into a file that is not markdown`
      } else if (anchor !== undefined && page && !headingAnchors(page).has(anchor)) {
        reason = `${target} has no heading #${anchor}`
      }
      if (reason) broken.push(`${file.path}:${link.line} (${link.target}): ${reason}`)
    }
  }
  return { checked, broken }
}
