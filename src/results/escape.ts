/**
 * Escaping of text that a registry chose (tag names, error bodies, digests in headers) for each medium it is written
 * to. A registry is not trusted (docs/security.md): its text must not move a terminal's cursor, start a GitHub Actions
 * workflow command, or render as Markdown or HTML in a pull-request comment or job summary. Each medium has one
 * function here, and every writer of that medium goes through it.
 */

/**
 * ECMA-48 control sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ST`, DCS/SOS/PM/APC strings and two-byte `ESC x`)
 * and their 8-bit C1 forms.
 */
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex
  /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[\u0020-\u007e]?/g;
/**
 * What is left after the sequences: C0 and C1 controls (line breaks included), DEL, the Unicode line and paragraph
 * separators, and the bidirectional overrides and isolates that reorder what a reader sees (CVE-2021-42574).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of plain text, safe for a terminal and a log file: escape sequences removed, every other control
 * character (line breaks included) shown as one space. For server-controlled fragments, before they are joined
 * into a line of our own.
 */
export function printable(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, ' ');
}

/** Line starts the Actions runner reads as a workflow command: `::name …::` and the older `##[name …]`. */
const COMMAND_START = /^(\s*)(::|##\[)/;

/**
 * Text for the Actions log (stdout of the Action) that no line of it can be read as a workflow command: every line
 * is made printable, and a line that would start with `::` or `##[` (after blanks) gets a visible `» ` in front.
 * Annotations (`core.error`, `core.warning`) need nothing more: @actions/core escapes their data (`%0A` for a line
 * break) itself.
 */
export function workflowLogText(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => printable(line).replace(COMMAND_START, '$1» $2'))
    .join('\n');
}

/**
 * A Markdown code span holding `text` literally (CommonMark §6.1), for a GFM table cell: no emphasis, link, image,
 * heading, HTML tag or @-mention inside renders. The fence is longer than any run of backticks in the text, and `|`
 * is escaped because GFM splits table cells on it even inside code spans. Empty text gives an empty string.
 */
export function markdownCode(text: string): string {
  const line = printable(text).replace(/\|/g, '\\|');
  if (line.trim() === '') return '';
  const longest = Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  // A space on each side keeps a leading or trailing backtick from joining the fence (CommonMark strips one each).
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}

/**
 * Text for HTML (the job summary, which GitHub renders as Markdown with raw HTML): one printable line, so no blank
 * line can end the HTML block and let Markdown render again, with `& < > " '` as entities.
 */
export function htmlText(text: string): string {
  return printable(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
