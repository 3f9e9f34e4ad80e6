import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundYoungGeneration } from '../../src/job/young-generation.js';

const v8Major = Number(process.versions.v8.split('.')[0]);

describe('boundYoungGeneration (dead stream buffers bounded on Node 22 and 24)', () => {
  it(`sets the young-generation cap on V8 12 and later, nothing on older V8 (this V8: ${process.versions.v8})`, () => {
    assert.equal(boundYoungGeneration({}, []), v8Major >= 12);
  });

  it('leaves a cap the user gave alone (NODE_OPTIONS or the command line, either spelling)', () => {
    assert.equal(
      boundYoungGeneration({ NODE_OPTIONS: '--max-old-space-size=512 --scavenger-max-new-space-capacity-mb=16' }, []),
      false,
    );
    assert.equal(boundYoungGeneration({}, ['--scavenger_max_new_space_capacity_mb=16']), false);
  });
});
