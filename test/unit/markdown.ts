/**
 * Just enough Markdown for the documentation tests: fenced code blocks, link targets and GitHub's heading anchors.
 */

/** The bodies of the fenced code blocks whose info string is `lang`. */
export function codeBlocks(text: string, lang: string): string[] {
  return [...text.matchAll(/^```([^\n]*)\n([\s\S]*?)^```/gm)].filter((m) => m[1]!.trim() === lang).map((m) => m[2]!);
}

/** Inline link targets `[text](target)` outside code blocks and code spans. */
export function markdownLinks(text: string): string[] {
  const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '``');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/**
 * The anchors GitHub gives the headings of a document: lower case, punctuation other than `-` and `_` removed,
 * spaces as `-`, and `-1`, `-2`… for repeats.
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const headings = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm);
  for (const [, heading] of headings) {
    const base = heading!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}
