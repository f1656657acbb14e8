// What the agent bundle imports in place of '@tensorflow/tfjs': the same core and layers API with the
// CPU backend, without tfjs-data, tfjs-converter and the WebGL backend, which a Node device never uses
// (about 12 MB of RSS). Used only by scripts/build.mjs.
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { version_core } from '@tensorflow/tfjs-core';
export const version = { 'tfjs-core': version_core, tfjs: version_core };
