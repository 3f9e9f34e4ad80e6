import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import type { App } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider/index.js';
import { HuaweicloudProvider, ConstructValidationError } from '../../constructs/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = any;

export function newStack(id = 'MyStack', opts: { providers?: boolean; app?: App } = {}): TerraformStack {
  const stack = new TerraformStack(opts.app ?? Testing.app(), id);
  if (opts.providers !== false) {
    new HuaweicloudProvider(stack, 'huaweicloud', { region: 'cn-north-4' });
    new KubernetesProvider(stack, 'kubernetes', {});
  }
  return stack;
}

/** The snake_case JSON Terraform reads (aspects invoked, metadata stripped). */
export function synth(stack: TerraformStack, runValidations = false): Json {
  return JSON.parse(Testing.synth(stack, runValidations));
}

/** All resources of a type, as a list of their bodies. */
export function resources(json: Json, type: string): Json[] {
  return Object.values(json.resource?.[type] ?? {});
}

export function only(json: Json, type: string): Json {
  const list = resources(json, type);
  assert.equal(list.length, 1, `expected exactly one ${type}, found ${list.length}`);
  return list[0];
}

/** Full synth into a temp dir, as `cdktf synth` does; returns the stack's directory and the manifest. */
export function fullSynth(stack: TerraformStack): { dir: string; manifest: Json; config: Json } {
  const outdir = Testing.fullSynth(stack);
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
  const entry = manifest.stacks[stack.node.id];
  const dir = join(outdir, entry.workingDirectory);
  return { dir, manifest: entry, config: JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8')) };
}

/** Warning annotations on a construct subtree (the cdktf Annotations metadata). */
export function warnings(scope: {
  node: { findAll(): { node: { metadata: { type: string; data: unknown }[] } }[] };
}): string[] {
  return scope.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === '@cdktf/warn')
    .map((m) => String(m.data));
}

/**
 * Asserts a construction error names the construct path, the prop, the value and the rule:
 * `<path>: <prop> <value> <rule…>`.
 */
export function throwsRule(
  fn: () => unknown,
  expected: { path: string; prop: string; value?: string; rule: RegExp | string },
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConstructValidationError, `expected ConstructValidationError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_CONSTRUCT_PROP');
    assert.equal(err.path, expected.path);
    assert.equal(err.prop, expected.prop);
    const head = `${expected.path}: ${expected.prop} ${expected.value ?? ''}`;
    assert.ok(
      err.message.startsWith(head),
      `message ${JSON.stringify(err.message)} should start with ${JSON.stringify(head)}`,
    );
    if (typeof expected.rule === 'string')
      assert.ok(err.message.includes(expected.rule), `${err.message} should include ${expected.rule}`);
    else assert.match(err.message, expected.rule);
    return true;
  });
}
