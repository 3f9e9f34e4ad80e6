import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { codeBlocks } from './markdown.js';

/** The repository root (tests run compiled, from lib/test/unit/). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

async function documents(): Promise<Array<{ file: string; text: string }>> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return Promise.all(
    ['README.md', ...docs].sort().map(async (file) => ({ file, text: await readFile(join(ROOT, file), 'utf8') })),
  );
}

/** Shell words of one command line: quotes removed, `$VAR` kept as written, a trailing `# comment` dropped. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Every `swr-sync …` invocation in the shell blocks of a document (continuations joined, pipes split). */
function invocations(text: string): string[][] {
  const found: string[][] = [];
  for (const block of [...codeBlocks(text, 'sh'), ...codeBlocks(text, 'bash')]) {
    for (const line of block.replace(/\\\n\s*/g, ' ').split('\n')) {
      for (const segment of line.split(/\s\|\s/)) {
        const words = shellWords(segment);
        const at = words.findIndex((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
        if (words[at] === 'swr-sync') found.push(words.slice(at + 1));
      }
    }
  }
  return found;
}

/** A synopsis (`swr-sync copy SRC DST [--flag X]`) describes the flags; an example gives real values. */
const isSynopsis = (args: string[]) => args.some((a) => a.startsWith('[') || a.includes('…') || /^[A-Z]{3,}$/.test(a));

/** The program with every action replaced by a no-op: parsing (flags, arguments, value checks) without running. */
function parseOnly(): Command {
  const program = buildProgram();
  const stub = (c: Command): void => {
    if (c.commands.length === 0) c.action(() => undefined);
    c.commands.forEach(stub);
  };
  stub(program);
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  for (const c of program.commands) c.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  return program;
}

function commandsOf(program: Command, prefix = ''): Array<{ path: string; command: Command }> {
  return program.commands.flatMap((c) => {
    const path = `${prefix}${c.name()}`;
    return [{ path, command: c }, ...commandsOf(c, `${path} `)];
  });
}

describe('the command lines in the README and docs', () => {
  test('every example invocation parses: the commands, flags, arguments and values exist and are valid', async () => {
    const problems: string[] = [];
    let count = 0;
    for (const { file, text } of await documents()) {
      for (const args of invocations(text)) {
        if (isSynopsis(args)) continue;
        count++;
        try {
          await parseOnly().parseAsync(args, { from: 'user' });
        } catch (error) {
          problems.push(
            `${file}: swr-sync ${args.join(' ')}: ${error instanceof CommanderError ? error.message : String(error)}`,
          );
        }
      }
    }
    assert.ok(count >= 10, `found ${count} examples`);
    assert.deepEqual(problems, []);
  });

  test('every flag a synopsis shows is a flag of that command', async () => {
    const commands = new Map(commandsOf(buildProgram()).map(({ path, command }) => [path, command]));
    const problems: string[] = [];
    for (const { file, text } of await documents()) {
      for (const args of invocations(text).filter(isSynopsis)) {
        const name = args[0]!.replace(/^\[(.*)\]$/, '$1');
        const command =
          commands.get(args[1] && commands.has(`${name} ${args[1]}`) ? `${name} ${args[1]}` : name) ??
          commands.get('sync')!;
        const flags = new Set(command.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
        for (const flag of args.join(' ').match(/(?<![\w-])--?[a-z][\w-]*/g) ?? []) {
          if (!flags.has(flag)) problems.push(`${file}: ${flag} is not a flag of swr-sync ${command.name()}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  test('docs/cli.md documents every command and every flag', async () => {
    const text = await readFile(join(ROOT, 'docs/cli.md'), 'utf8');
    const missing: string[] = [];
    for (const { path, command } of commandsOf(buildProgram())) {
      if (
        command.commands.length === 0 &&
        !text.includes(`swr-sync ${path}`) &&
        !(path === 'sync' && text.includes('swr-sync [sync]'))
      )
        missing.push(`command ${path}`);
      for (const option of command.options) {
        if (!text.includes(option.long!)) missing.push(`${path} ${option.long}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
