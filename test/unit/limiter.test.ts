import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Limiter } from '../../src/util/limiter.js';

describe('Limiter', () => {
  test('never runs more than its limit, in FIFO order', async () => {
    const limiter = new Limiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limiter.run(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((r) => setTimeout(r, 2));
          active--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [...Array(10).keys()]);
  });
  test('a newcomer cannot overtake a waiter when a slot frees', async () => {
    const limiter = new Limiter(1);
    let active = 0;
    let peak = 0;
    const task = () =>
      limiter.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await Promise.resolve();
        active--;
      });
    const first = task();
    const second = task();
    await first;
    const third = task();
    await Promise.all([second, third]);
    assert.equal(peak, 1);
  });
});
