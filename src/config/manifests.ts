import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import { ConfigError } from '../errors.js';
import type { ObjectSource } from './workload-images.js';

/**
 * `swr-sync config --from-manifests`: Kubernetes objects from YAML or JSON files, as `kubectl apply -f` reads them.
 * A file holds any number of `---`-separated documents (Helm template output: `# Source:` comments, empty
 * documents); JSON is read as the YAML it is a subset of. A directory is searched recursively for `*.yaml`,
 * `*.yml` and `*.json` (hidden entries skipped, files in path order so the result never depends on the file
 * system's listing order). `-` is standard input.
 *
 * Syntax errors name the file, the document number and the line, never the text (a manifest may hold a Secret).
 */

export interface ManifestObject {
  readonly object: unknown;
  readonly source: ObjectSource;
}

export const STDIN_NAME = '(stdin)';
const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** Every document of one manifest text; `file` names it in messages. */
export function parseManifestText(text: string, file: string): ManifestObject[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, logLevel: 'silent', prettyErrors: true });
  // An empty text is an EmptyStream, not an array.
  if (!Array.isArray(documents)) return [];
  const objects: ManifestObject[] = [];
  documents.forEach((doc, i) => {
    const line = lineCounter.linePos((doc.contents?.range ?? doc.range)[0]).line;
    const source: ObjectSource = { file, document: i + 1, line };
    const error = doc.errors[0];
    if (error) throw new ConfigError(`document ${i + 1}: ${syntaxProblem(error, text)}`, { file });
    let object: unknown;
    try {
      object = doc.toJS();
    } catch (e) {
      // Alias expansion beyond the parser's limit ("billion laughs") and the like.
      throw new ConfigError(
        `document ${i + 1} (line ${line}): cannot be read: ${(e as Error).message.split('\n')[0]}`,
        { file },
      );
    }
    if (object !== null && object !== undefined) objects.push({ object, source });
  });
  return objects;
}

function syntaxProblem(error: YAMLError, text: string): string {
  const where = error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
  // Helm chart sources are Go templates: they only become YAML through `helm template`.
  const hint = /\{\{[-\s]/.test(text)
    ? '; it looks like an unrendered Helm or Go template: pass the output of `helm template` instead'
    : '';
  return `not valid YAML or JSON${where} (${error.code})${hint}`;
}

/**
 * The objects of `path`: a file, a directory (recursive), or `-` for `stdin`. A missing path, an empty
 * directory or a syntax error throws `ConfigError` (exit status 2).
 */
export async function readManifests(
  path: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<ManifestObject[]> {
  if (path === '-') return parseManifestText(await readStream(stdin), STDIN_NAME);
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    throw readError(path, e);
  }
  if (!info.isDirectory()) return parseManifestText(await readText(path), path);

  const files = await manifestFiles(path);
  if (files.length === 0)
    throw new ConfigError('holds no *.yaml, *.yml or *.json file', { file: path, code: 'ERR_CONFIG_READ' });
  const objects: ManifestObject[] = [];
  for (const file of files) objects.push(...parseManifestText(await readText(file), file));
  return objects;
}

async function manifestFiles(directory: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw readError(dir, e);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      // Symbolic links are followed to files only, so a link cycle cannot loop.
      const isFile =
        entry.isFile() ||
        (entry.isSymbolicLink() &&
          (await stat(full).then(
            (s) => s.isFile(),
            () => false,
          )));
      if (entry.isDirectory()) await walk(full);
      else if (isFile && MANIFEST_FILE.test(entry.name)) found.push(full);
    }
  };
  await walk(directory);
  return found;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw readError(file, e);
  }
}

function readError(file: string, e: unknown): ConfigError {
  const code = (e as NodeJS.ErrnoException).code;
  const problem = code === 'ENOENT' ? 'no such file or directory' : `cannot be read (${code ?? (e as Error).message})`;
  return new ConfigError(problem, { file, code: 'ERR_CONFIG_READ', cause: e });
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(parts).toString('utf8');
}
