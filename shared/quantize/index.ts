/**
 * int8 quantized inference for the edge agent (issue 6): quantize a trained chain model with calibration
 * samples, run it with integer-only kernels (wasm SIMD), and store it as one compact file.
 *
 *   const q = quantizeModel(model, calibration.x);   // per-channel int8 weights, calibrated activations
 *   saveQuantized(q, 'student.dq8');                  // JSON header + binary blob, ~0.25x the float weights
 *   const int8 = new Int8Model(loadQuantized('student.dq8'));
 *   const logits = int8.predict(x);                   // Float32Array in, Float32Array out
 *
 * Serving only? Import ./inference.js instead: it never loads TF.js.
 */
export { quantizeModel, quantizeGraph, chooseParams, quantizeMultipliers, quantizeWeights, lookupTable } from './quantize.js';
export { extractGraph, SUPPORTED_LAYERS, type FloatGraph, type FloatOp } from './extract.js';
export { calibrate, runFloatGraph, type Calibration, type Range } from './calibrate.js';
// Inference and the file format, also available without TF.js from ./inference.js.
export * from './inference.js';
