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
