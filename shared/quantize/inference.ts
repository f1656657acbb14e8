/**
 * The int8 inference entry point without TF.js: load a model file and run it. TF.js costs about 100 MB of
 * RSS before any model is built, so a device that only serves the int8 student imports this module, not
 * index.ts (whose quantizer calibrates with TF.js).
 */
export { Int8Model, quantizeValues } from './runtime.js';
export { parseQuantized, loadQuantized, serializeQuantized, saveQuantized, MAGIC, FORMAT_VERSION } from './format.js';
export { QuantizeError, QuantFormatError, type QuantizeErrorCode, type QuantFormatErrorCode } from './errors.js';
export type { QuantizedModel, QOp, QParams, AffineParts } from './model.js';
