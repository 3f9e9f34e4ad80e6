import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { describeIssue, fieldList, fieldPath, valueAt } from '../../src/config/zod-issues.js';

/** The rules for the first issue of `value` against `schema`. */
function rules(schema: z.ZodType, value: unknown, wording: Parameters<typeof describeIssue>[1] = {}): string[] {
  const parsed = schema.safeParse(value);
  assert.equal(parsed.success, false);
  return parsed.error!.issues.flatMap((issue) =>
    describeIssue(issue, { value: valueAt(value, issue.path), ...wording }),
  );
}

describe('zod issues as rules (config/zod-issues.ts)', () => {
  const Entry = z.strictObject({
    username: z.string(),
    password: z.string(),
    insecure: z.boolean().optional(),
    tags: z.array(z.string()).optional(),
  });

  test('paths as a user writes them', () => {
    assert.equal(fieldPath(['tags', 0, 'name']), 'tags[0].name');
    assert.equal(fieldPath([]), '');
    assert.deepEqual(fieldList(Entry), ['username', 'password', 'insecure', 'tags']);
    assert.equal(valueAt({ a: [{ b: 2 }] }, ['a', 0, 'b']), 2);
    assert.equal(valueAt({ a: 1 }, ['a', 'b']), undefined);
  });

  test('unknown fields: the allowed ones at the top level, the field that has them below it', () => {
    assert.deepEqual(rules(Entry, { username: 'u', password: 'p', user: 'x' }, { allowedFields: fieldList(Entry) }), [
      'unknown field "user" (allowed: username, password, insecure, tags)',
    ]);
    const Outer = z.strictObject({ auth: Entry });
    assert.deepEqual(rules(Outer, { auth: { username: 'u', password: 'p', a: 1, b: 2 } }), [
      '"auth" has unknown fields "a", "b"',
    ]);
  });

  test('types, with "an" before a vowel, whole numbers, and never the value itself', () => {
    assert.deepEqual(rules(Entry, { username: 'u', password: 12345678 }), ['"password" must be a string']);
    assert.deepEqual(rules(z.strictObject({ a: z.object({}) }), { a: 'secret-text' }), ['"a" must be an object']);
    assert.deepEqual(rules(z.strictObject({ n: z.int() }), { n: 1.5 }), ['"n" must be a whole number']);
    assert.ok(!rules(Entry, { username: 'u', password: 12345678 }).join().includes('12345678'));
  });

  test('bounds: numbers and empty strings', () => {
    assert.deepEqual(rules(z.strictObject({ n: z.number().min(1) }), { n: 0 }), ['"n" must be at least 1']);
    assert.deepEqual(rules(z.strictObject({ n: z.number().gt(0) }), { n: 0 }), ['"n" must be greater than 0']);
    assert.deepEqual(rules(z.strictObject({ s: z.string().min(1) }), { s: '' }), ['"s" must not be empty']);
  });

  test('a union narrowed to the branch whose type matched; otherwise the field says what it accepts', () => {
    const Tags = z.strictObject({
      tags: z.union([z.array(z.string()), z.strictObject({ include: z.array(z.string()) })]),
    });
    assert.deepEqual(rules(Tags, { tags: { include: 'x' } }), ['"tags.include" must be an array']);
    assert.deepEqual(
      rules(Tags, { tags: 5 }, { unionMessages: { tags: 'must be a list of tags or an object { "include" }' } }),
      ['"tags" must be a list of tags or an object { "include" }'],
    );
    assert.deepEqual(rules(Tags, { tags: 5 }), ['"tags" has an invalid value']);
  });

  test('a hint after a type error', () => {
    const hint = (_issue: unknown, _path: readonly PropertyKey[], value: unknown) =>
      typeof value === 'number' ? ' (quote it)' : '';
    assert.deepEqual(rules(z.strictObject({ tags: z.array(z.string()) }), { tags: [1.1] }, { hint }), [
      '"tags[0]" must be a string (quote it)',
    ]);
  });

  test('a path of its own replaces the issue path (the caller already named the key)', () => {
    const parsed = Entry.safeParse({ username: 'u', password: 1 });
    assert.deepEqual(describeIssue(parsed.error!.issues[0]!, { path: [] }), ['must be a string']);
  });
});
