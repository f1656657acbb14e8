/** `distillery backend`: which TF.js backend this machine uses, and which are available. */
import * as tf from '@tensorflow/tfjs';
import type { Command } from '../command.js';
import { parseArgs } from '../args.js';
import { initBackend } from '../../shared/compute/backend.js';

export const backendCommand: Command = {
  name: 'backend',
  usage: 'distillery backend',
  summary: 'show the compute backend picked here (override with DISTILLERY_BACKEND=tensorflow|wasm|cpu)',
  flags: {},
  async run(argv) {
    parseArgs(argv, this.flags, 'backend');
    const name = await initBackend(() => {});
    console.log(`backend: ${name} (tf.js ${tf.version.tfjs})`);
    return 0;
  },
};
