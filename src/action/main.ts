/**
 * Entry point of the GitHub Action (action.yml `runs.main`, bundled into dist/index.js by scripts/build-action.ts).
 * The only place that fails the step: `core.setFailed` prints the `::error::` annotation and sets exit code 1.
 */
import * as core from '@actions/core';
import { describeError } from '../errors.js';
import { boundYoungGeneration } from '../job/young-generation.js';
import { printable } from '../results/escape.js';
import { run } from './run.js';

boundYoungGeneration();
try {
  const failure = await run();
  if (failure !== undefined) core.setFailed(printable(failure));
} catch (error) {
  core.setFailed(printable(describeError(error)));
}
