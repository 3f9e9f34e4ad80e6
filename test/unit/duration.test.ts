import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDurationText, parseDuration } from '../../src/config/duration.js';

describe("durations (--timeout, --stall-timeout, the Action's timeout)", () => {
  test('units ms, s, m, h; a bare number is seconds; fractions round to the millisecond', () => {
    assert.deepEqual(
      ['1500ms', '90s', '90', '30m', '2h', '0.5s', ' 10m '].map(parseDuration),
      [1500, 90_000, 90_000, 1_800_000, 7_200_000, 500, 600_000],
    );
  });

  test('refused: no number, unknown unit, negative, zero, over 7 days', () => {
    for (const bad of ['', 'forever', '10d', '-5s', '0', '0ms', '169h', '1e3', '5 m'])
      assert.equal(parseDuration(bad), undefined, bad);
    assert.equal(parseDuration('168h'), 7 * 24 * 3_600_000);
  });

  test('written back in the shortest exact form, and read back to the same value', () => {
    for (const [ms, text] of [
      [300_000, '5m'],
      [90_000, '90s'],
      [7_200_000, '2h'],
      [1500, '1500ms'],
      [5400_000, '90m'],
    ] as const) {
      assert.equal(formatDurationText(ms), text);
      assert.equal(parseDuration(text), ms);
    }
  });
});
