import { readFile } from 'node:fs/promises';
import { SwrSyncError } from '../errors.js';

/** Reads a secret from standard input (first line, trailing newline removed), refusing a terminal-less empty value. */
export async function readSecretFromStdin(what: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stdin) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  const value = Buffer.concat(parts).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (value === '') throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${what}: standard input was empty`);
  return value;
}

export function readSecretFromEnv(variable: string, what: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[variable];
  if (value === undefined || value === '') {
    throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${what}: environment variable ${variable} is not set`);
  }
  return value;
}

/**
 * Reads a secret from a file (a mounted Kubernetes or Docker secret, a CI secret file): the whole content with one
 * trailing newline removed, so a password may contain anything but a line break. Errors name the flag and the file.
 */
export async function readSecretFromFile(file: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SwrSyncError(
      'ERR_CONFIG_READ',
      `${what} ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${what} ${file}: the file is empty`);
  return value;
}
