#!/usr/bin/env node
import { boundYoungGeneration } from '../job/young-generation.js';
import { run } from './program.js';

boundYoungGeneration();
process.exitCode = await run(process.argv.slice(2));
