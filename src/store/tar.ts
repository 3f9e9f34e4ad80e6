import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { SwrSyncError } from '../errors.js';

/**
 * The tar subset an `oci-archive:` needs (POSIX.1-2001 ustar and pax, as GNU tar and Go's archive/tar write it;
 * GNU long names and base-256 sizes read too). Reading builds an index of where each file's bytes are, so the
 * archive is read in place by offset: nothing is extracted and nothing is held in memory but the index. The
 * streaming tar libraries read entries only in archive order, which would force an extraction of every layer
 * to disk before the first manifest could be read (what skopeo does).
 */

const BLOCK = 512;
/** Largest size the 11 octal digits of a ustar header hold (8 GiB - 1); beyond, pax `size` carries it. */
const USTAR_SIZE_MAX = 0o77777777777;
const PAX_MAX_BYTES = 1024 * 1024;

export interface TarEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'other';
  /** Where the entry's content starts in the archive. */
  readonly offset: number;
  readonly size: number;
}

export interface TarSource {
  /** Path inside the archive, '/'-separated; directories end without '/' (the writer adds it). */
  readonly name: string;
  readonly type: 'file' | 'directory';
  /** Files: where the content is read from, and its size. */
  readonly path?: string;
  readonly size?: number;
}

function tarError(file: string, message: string, cause?: unknown): SwrSyncError {
  return new SwrSyncError('ERR_LAYOUT', `${file}: ${message}`, cause === undefined ? {} : { cause });
}

/** `./a//b` → `a/b`: the forms tar writers use for one path. */
export function normalizeTarName(name: string): string {
  return name
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

const COMPRESSED: Array<[string, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/** Reads every header of `file` (seeking over contents) and returns the entries by normalized name. */
export async function indexTar(file: string): Promise<Map<string, TarEntry>> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    throw tarError(file, `cannot open the archive: ${(cause as Error).message}`, cause);
  }
  try {
    const total = (await handle.stat()).size;
    const entries = new Map<string, TarEntry>();
    const header = Buffer.alloc(BLOCK);
    let position = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const { bytesRead } = await handle.read(header, 0, BLOCK, position);
      if (bytesRead === 0) break;
      if (position === 0) {
        const kind = COMPRESSED.find(([, magic]) => magic.every((b, i) => header[i] === b));
        if (kind) throw tarError(file, `is ${kind[0]}-compressed; an oci-archive is a plain tar: decompress it first`);
      }
      if (bytesRead < BLOCK) throw tarError(file, `is truncated: a tar header at offset ${position} is cut short`);
      if (header.every((b) => b === 0)) break;
      if (!checksumMatches(header)) {
        throw tarError(
          file,
          position === 0
            ? 'is not a tar archive (no valid tar header at its start)'
            : `is damaged: the tar header at offset ${position} has a wrong checksum`,
        );
      }
      const type = String.fromCharCode(header[156]!);
      let size = readNumber(header, 124, 12);
      if (pax.size !== undefined) size = Number(pax.size);
      if (!Number.isSafeInteger(size) || size < 0)
        throw tarError(file, `has an invalid entry size at offset ${position}`);
      const data = position + BLOCK;
      if (data + size > total)
        throw tarError(
          file,
          `is truncated: an entry at offset ${position} needs ${size} bytes, the file ends ${total - data} bytes later`,
        );
      const next = data + Math.ceil(size / BLOCK) * BLOCK;

      if (type === 'x' || type === 'L' || type === 'K') {
        if (size > PAX_MAX_BYTES) throw tarError(file, `has an extended header of ${size} bytes at offset ${position}`);
        const body = Buffer.alloc(size);
        await handle.read(body, 0, size, data);
        if (type === 'x') pax = parsePax(body, file);
        else if (type === 'L') longName = cString(body, 0, size);
        else longLink = cString(body, 0, size);
        position = next;
        continue;
      }
      if (type === 'g') {
        // Global pax headers (e.g. git archive's comment) describe the archive, not one entry.
        position = next;
        continue;
      }

      const magic = header.toString('latin1', 257, 263);
      const prefix = magic === 'ustar\0' ? cString(header, 345, 155) : '';
      const rawName =
        pax.path ?? longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
      // An OCI archive holds oci-layout, index.json and blobs/ only: an absolute name or a `..` component is the
      // classic extraction attack (CVE-2007-4559), refused even though entries are read in place, never extracted.
      if (rawName.startsWith('/') || rawName.split('/').includes('..')) {
        throw tarError(
          file,
          `has an entry named ${JSON.stringify(rawName.slice(0, 200))} at offset ${position}: absolute names and ".." components are refused`,
        );
      }
      const name = normalizeTarName(rawName);
      if (type === '0' || type === '\0' || type === '7') {
        entries.set(name, { name, type: 'file', offset: data, size });
      } else if (type === '5') {
        entries.set(name, { name, type: 'directory', offset: data, size: 0 });
      } else if (type === '1') {
        // A hard link shares the content of an earlier entry.
        const target = entries.get(normalizeTarName(pax.linkpath ?? longLink ?? cString(header, 157, 100)));
        if (target) entries.set(name, { ...target, name });
      } else {
        entries.set(name, { name, type: 'other', offset: data, size });
      }
      pax = {};
      longName = undefined;
      longLink = undefined;
      position = next;
    }
    return entries;
  } finally {
    await handle.close();
  }
}

/** The content of one entry, streamed from the archive. */
export function openTarEntry(file: string, entry: TarEntry): Readable {
  return entry.size === 0
    ? Readable.from([])
    : createReadStream(file, { start: entry.offset, end: entry.offset + entry.size - 1 });
}

/**
 * Writes `sources` as a tar to `file` (created, or truncated), fsynced. Headers are deterministic: mode 0644/0755,
 * owner 0, mtime 0, so the same layout gives the same archive bytes.
 */
export async function writeTar(file: string, sources: readonly TarSource[]): Promise<void> {
  const handle = await open(file, 'w', 0o644);
  try {
    let position = 0;
    const write = async (bytes: Buffer): Promise<void> => {
      await handle.write(bytes, 0, bytes.length, position);
      position += bytes.length;
    };
    for (const source of sources) {
      const name = source.type === 'directory' ? `${source.name}/` : source.name;
      const size = source.type === 'file' ? (source.size ?? 0) : 0;
      for (const block of headerBlocks(name, source.type, size)) await write(block);
      if (source.type !== 'file') continue;
      let written = 0;
      for await (const chunk of createReadStream(source.path!)) {
        const bytes = chunk as Buffer;
        written += bytes.length;
        if (written > size) break;
        await write(bytes);
      }
      if (written !== size)
        throw tarError(file, `${source.path} changed while it was archived (expected ${size} bytes, read ${written})`);
      await write(Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK));
    }
    // End of archive: two zero blocks.
    await write(Buffer.alloc(2 * BLOCK));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The header of one entry, preceded by a pax header when the name or size does not fit ustar. */
function headerBlocks(name: string, type: 'file' | 'directory', size: number): Buffer[] {
  const records: Record<string, string> = {};
  let fieldName = name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const split = splitUstarName(name);
    if (split) [prefix, fieldName] = split;
    else {
      records.path = name;
      fieldName = name.slice(0, 100);
    }
  }
  if (size > USTAR_SIZE_MAX) records.size = String(size);
  const blocks: Buffer[] = [];
  if (Object.keys(records).length > 0) {
    const body = paxBody(records);
    blocks.push(
      ustarHeader(`PaxHeaders/${fieldName}`.slice(0, 100), 'x', body.length, ''),
      body,
      Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK),
    );
  }
  blocks.push(ustarHeader(fieldName, type === 'file' ? '0' : '5', size, prefix));
  return blocks;
}

/** ustar's prefix/name split at a '/', when both parts fit (155 and 100 bytes). */
function splitUstarName(name: string): [string, string] | undefined {
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return [prefix, rest];
  }
  return undefined;
}

function ustarHeader(name: string, type: string, size: number, prefix: string): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  writeOctal(header, 100, 8, type === '5' ? 0o755 : 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  if (size > USTAR_SIZE_MAX) {
    // GNU base-256: the high bit marks it; readers that know pax use the pax `size` record instead.
    header[124] = 0x80;
    let rest = BigInt(size);
    for (let i = 135; i > 124; i--) {
      header[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
  } else {
    writeOctal(header, 124, 12, size);
  }
  writeOctal(header, 136, 12, 0);
  header.write(type, 156, 1, 'latin1');
  header.write('ustar\0', 257, 6, 'latin1');
  header.write('00', 263, 2, 'latin1');
  header.write(prefix, 345, 155, 'utf8');
  header.fill(0x20, 148, 156);
  const sum = header.reduce((n, b) => n + b, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return header;
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

/** pax records `"<length> <key>=<value>\n"`, where the length counts the whole record, its own digits included. */
function paxBody(records: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(records).map(([key, value]) => {
      const rest = Buffer.byteLength(` ${key}=${value}\n`);
      let length = rest + String(rest).length;
      while (rest + String(length).length !== length) length = rest + String(length).length;
      return Buffer.from(`${length} ${key}=${value}\n`);
    }),
  );
}

function parsePax(body: Buffer, file: string): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const space = body.indexOf(0x20, at);
    const length = Number(body.toString('latin1', at, space));
    if (space < 0 || !Number.isSafeInteger(length) || length <= 0 || at + length > body.length)
      throw tarError(file, 'has a malformed pax extended header');
    const record = body.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return records;
}

function cString(buffer: Buffer, offset: number, length: number): string {
  const end = buffer.indexOf(0, offset);
  return buffer.toString('utf8', offset, end < 0 || end > offset + length ? offset + length : end);
}

/** A numeric header field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function readNumber(header: Buffer, offset: number, length: number): number {
  if (header[offset]! & 0x80) {
    let value = BigInt(header[offset]! & 0x7f);
    for (let i = offset + 1; i < offset + length; i++) value = (value << 8n) | BigInt(header[i]!);
    return Number(value);
  }
  const text = header
    .toString('latin1', offset, offset + length)
    .replace(/[\0 ]+$/, '')
    .replace(/^[\0 ]+/, '');
  return text === '' ? 0 : parseInt(text, 8);
}

/** POSIX: the checksum is the sum of the header's bytes with the checksum field taken as spaces (some old writers summed signed bytes). */
function checksumMatches(header: Buffer): boolean {
  const stored = readNumber(header, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}
