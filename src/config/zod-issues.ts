import type { z } from 'zod';

/**
 * Zod validation issues as rules a user can act on: `"field" must be a string`, `unknown field "x" (allowed: …)`.
 * The one place every file format (images.json, mirror spec, auth.json, Docker config, lock file) turns a schema
 * failure into words. The offending value is never quoted: it may be a secret.
 */

/** One zod issue. */
export type Issue = z.core.$ZodIssue;

/** How an issue is worded. */
export interface IssueWording {
  /** The field the issue is about, relative to what the caller names (file, key). @default the issue's own path */
  readonly path?: readonly PropertyKey[];
  /** The value the issue's path is relative to, for hints (a number where a string was expected). */
  readonly value?: unknown;
  /** Field names listed after an unknown field at the top level. */
  readonly allowedFields?: readonly string[];
  /** What to say when no branch of a union matched, by the field's name. */
  readonly unionMessages?: Readonly<Record<string, string>>;
  /** Extra words after a type error, e.g. how to quote a YAML value. */
  readonly hint?: (issue: Issue, path: readonly PropertyKey[], value: unknown) => string;
}

/** `tags[0].name`: a path as a user writes it. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path)
    text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`;
  return text;
}

/** The field names of an object schema, for `allowedFields`. */
export function fieldList(schema: { shape: object }): string[] {
  return Object.keys(schema.shape);
}

/** The value at `path` inside `value`, or undefined. */
export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/**
 * An issue as rules (one, or several for a union whose matching branch had several problems). A union issue is
 * narrowed to the branch whose type matched, when exactly one did.
 */
export function describeIssue(issue: Issue, wording: IssueWording = {}): string[] {
  const path = wording.path ?? issue.path;
  const value = wording.value;
  const field = path.length > 0 ? `"${fieldPath(path)}" ` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const names = issue.keys.map((k) => `"${k}"`).join(', ');
      const allowed = path.length === 0 ? wording.allowedFields : undefined;
      return [
        `${field === '' ? '' : `${field}has `}unknown field${issue.keys.length > 1 ? 's' : ''} ${names}${allowed ? ` (allowed: ${allowed.join(', ')})` : ''}`,
      ];
    }
    case 'invalid_type': {
      const hint = wording.hint?.(issue, path, value) ?? '';
      const expected = issue.expected === 'int' ? 'whole number' : issue.expected;
      return [`${field}must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}${hint}`];
    }
    case 'invalid_union': {
      const matched = issue.errors.filter(
        (branch) =>
          !branch.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')),
      );
      if (matched.length === 1) {
        return (matched[0] as Issue[]).flatMap((i) =>
          describeIssue(i, { ...wording, path: [...path, ...i.path], value: valueAt(value, i.path) }),
        );
      }
      const last = path[path.length - 1];
      return [`${field}${(typeof last === 'string' && wording.unionMessages?.[last]) || 'has an invalid value'}`];
    }
    case 'too_small':
      if (issue.origin === 'number')
        return [`${field}must be ${issue.inclusive ? 'at least' : 'greater than'} ${String(issue.minimum)}`];
      if (issue.origin === 'string') return [`${field}must not be empty`];
      return [`${field}${issue.message}`];
    default:
      return [`${field}${issue.message}`];
  }
}
