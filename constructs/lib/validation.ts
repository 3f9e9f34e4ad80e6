/**
 * Construction-time validation in the aws-cdk style: a message names the construct path, the prop, the value and the
 * rule, e.g. `MyStack/web: eip.bandwidthName "a b" must be 1-64 letters, digits, '-', '_' or '.'`.
 * Values that are unresolved tokens are known only at apply time, so rules are skipped for them unless the value
 * must be known at synth (then `requireResolved`).
 */
import { Token } from './cdktf.js';
import type { IConstruct } from './cdktf.js';
import type { Rule } from './rules.js';

/** A prop that breaks a rule, thrown when the construct is created. */
export class ConstructValidationError extends Error {
  /** Stable code for scripts and tests. */
  readonly code = 'ERR_CONSTRUCT_PROP';

  constructor(
    /** The construct's path, e.g. `MyStack/web`. */
    readonly path: string,
    /** The prop, e.g. `eip.bandwidthName` or `containers[1].image`. */
    readonly prop: string,
    /** The value as given (secrets are never kept). */
    readonly value: unknown,
    /** The rule it breaks, as the end of a sentence. */
    readonly rule: string,
  ) {
    super(`${path}: ${prop} ${show(value)} ${rule}`);
    this.name = 'ConstructValidationError';
  }
}

/** Stands in for a secret in a message: messages never carry credentials. */
export const REDACTED: unique symbol = Symbol('redacted');

export function show(value: unknown): string {
  if (value === REDACTED) return '(secret, not shown)';
  if (value === undefined) return '(unset)';
  if (Token.isUnresolved(value)) return '(unresolved token)';
  if (typeof value === 'string') return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

export function pathOf(scope: IConstruct): string {
  return scope.node.path || scope.node.id || '<root>';
}

export function fail(scope: IConstruct, prop: string, value: unknown, rule: string): never {
  throw new ConstructValidationError(pathOf(scope), prop, value, rule);
}

export function isUnresolved(value: unknown): boolean {
  return Token.isUnresolved(value);
}

/** Checks `value` against `rule` unless it is undefined or a token. */
export function check<T>(scope: IConstruct, prop: string, value: T | undefined, rule: Rule<T>): void {
  if (value === undefined || isUnresolved(value)) return;
  if (!rule.test(value)) fail(scope, prop, value, rule.text);
}

/** As `check`, but a token is an error: the value is needed at synth (e.g. to write swr-mirror.json). */
export function checkResolved<T>(
  scope: IConstruct,
  prop: string,
  value: T | undefined,
  rule: Rule<T>,
  why: string,
): void {
  if (value !== undefined && isUnresolved(value)) fail(scope, prop, value, `must be known at synth: ${why}`);
  check(scope, prop, value, rule);
}
