import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { networkCause } from '../../src/client/exchange.js';
import { abortReasonText, describeError, SwrSyncError, timeLimitSignal } from '../../src/errors.js';
import { counted } from '../../src/results/format.js';

const systemError = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('messages say each thing once', () => {
  test('a network error: its code once, then what Node adds (the address), and no "(cause: …)" repeating it', () => {
    const refused = systemError('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED');
    assert.equal(networkCause(refused), 'ECONNREFUSED 127.0.0.1:1');
    assert.equal(
      networkCause(systemError('getaddrinfo ENOTFOUND registry.invalid', 'ENOTFOUND')),
      'ENOTFOUND registry.invalid',
    );
    assert.equal(networkCause(systemError('read ECONNRESET', 'ECONNRESET')), 'ECONNRESET');
    const error = new SwrSyncError(
      'ERR_REGISTRY_UNREACHABLE',
      `registry 127.0.0.1:1 unreachable: ${networkCause(refused)}`,
      { cause: refused },
    );
    assert.equal(describeError(error), 'registry 127.0.0.1:1 unreachable: ECONNREFUSED 127.0.0.1:1');
    assert.equal(describeError(error).match(/ECONNREFUSED/g)?.length, 1);
  });

  test('a cause that adds something is still given', () => {
    const error = new SwrSyncError('ERR_LAYOUT', 'cannot write the layout', {
      cause: systemError('ENOSPC: no space left on device, write', 'ENOSPC'),
    });
    assert.match(describeError(error), /\(cause: ENOSPC: no space left on device/);
  });

  test('counts agree with their nouns: "1 rule", "2 rules", "1 entry", "3 entries"', () => {
    assert.equal(counted(1, 'rule'), '1 rule');
    assert.equal(counted(2, 'image'), '2 images');
    assert.equal(counted(0, 'image'), '0 images');
    assert.equal(counted(1, 'entry', 'entries'), '1 entry');
    assert.equal(counted(3, 'entry', 'entries'), '3 entries');
  });

  test("a time limit names how the user set it (--timeout, or the Action's timeout input)", async () => {
    const signal = timeLimitSignal(5, 'timeout input');
    // The limit's timer is unref'd (it must not keep a finished run alive), so the test holds the event loop itself.
    const hold = setTimeout(() => undefined, 10_000);
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    clearTimeout(hold);
    assert.equal(abortReasonText(signal.reason), 'the run reached its time limit (timeout input)');
    assert.equal(abortReasonText(new DOMException('timed out', 'TimeoutError')), 'the run reached its time limit');
    assert.equal(abortReasonText(new DOMException('aborted', 'AbortError')), 'the run was cancelled');
  });
});
