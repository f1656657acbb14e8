/** Evaluation metrics: accuracy, per-class accuracy, confusion matrix, expected calibration error. */
export { accuracy, argmaxRows, checkPredictions, confusionMatrix, perClassAccuracy } from './classification.js';
export { calibrationBins, expectedCalibrationError, type CalibrationBin, type CalibrationOptions } from './calibration.js';
