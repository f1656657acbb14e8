/**
 * Lifelong local learning for the edge agent (issue 6): class-incremental updates without forgetting, by
 * Learning-without-Forgetting distillation plus replay from a bounded reservoir memory.
 *
 *   const learner = new LifelongLearner(model, train, { memorySize: 1000, epochs: 2, seed: 1 });
 *   await learner.update(newlyLabeledSamples);   // new classes welcome
 *   learner.accuracyOn(heldOut);
 */
export { LifelongLearner, naiveOptions, type LifelongOptions, type UpdateReport } from './learner.js';
export { ReservoirBuffer } from './reservoir.js';
export { classMask, lwfDistillation, maskedCrossEntropy } from './lwf.js';
export { averageAccuracy, forgetting } from './metrics.js';
export { classIncrementalGroups, runStream, splitByClasses, type StreamResult } from './stream.js';
