import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';
import { DEFAULT_RETRIES, DEFAULT_STALL_TIMEOUT_MS, DEFAULT_WORKERS } from '../../src/defaults.js';

/** The repository root (tests run compiled, from lib/test/unit/). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The default a command's option shows in `--help`, from commander's own model. */
function optionDefault(command: string, flag: string): unknown {
  const sub = buildProgram().commands.find((c) => c.name() === command);
  const option = sub?.options.find((o) => o.long === flag);
  assert.ok(option, `${command} ${flag} exists`);
  return option.defaultValue;
}

describe('defaults (src/defaults.ts) are the ones every front end states', () => {
  it("action.yml's input defaults", async () => {
    const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
    };
    assert.equal(action.inputs.workers?.default, String(DEFAULT_WORKERS));
    assert.equal(action.inputs.retries?.default, String(DEFAULT_RETRIES));
  });

  it("the CLI's flags", () => {
    for (const command of ['sync', 'plan']) {
      assert.equal(optionDefault(command, '--workers'), DEFAULT_WORKERS);
      assert.equal(optionDefault(command, '--retries'), DEFAULT_RETRIES);
      assert.equal(optionDefault(command, '--stall-timeout'), DEFAULT_STALL_TIMEOUT_MS);
    }
    assert.equal(optionDefault('copy', '--retries'), DEFAULT_RETRIES);
    assert.equal(optionDefault('copy', '--stall-timeout'), DEFAULT_STALL_TIMEOUT_MS);
  });

  it('docs/action.md and docs/cli.md', async () => {
    const action = await readFile(join(ROOT, 'docs/action.md'), 'utf8');
    assert.match(
      action,
      new RegExp(`\\| \`workers\`, \`retries\` \\|[^|]*\\| \`${DEFAULT_WORKERS}\`, \`${DEFAULT_RETRIES}\` \\|`),
    );
    const cli = await readFile(join(ROOT, 'docs/cli.md'), 'utf8');
    assert.ok(cli.includes(`[--workers ${DEFAULT_WORKERS}] [--retries ${DEFAULT_RETRIES}]`), 'docs/cli.md synopsis');
    assert.ok(
      cli.includes(`\`--stall-timeout\` (default ${DEFAULT_STALL_TIMEOUT_MS / 1000} s)`),
      'docs/cli.md --stall-timeout',
    );
  });
});
