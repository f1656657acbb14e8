// Entry point that slim-bundle.test.ts bundles with the agent's slim tfjs: prints the probe's answers as JSON.
import { probe } from './slim-probe.js';

console.log(JSON.stringify(await probe()));
