/**
 * UCI Optical Recognition of Handwritten Digits, the 8x8 version scikit-learn ships (Alpaydin & Kaynak
 * 1998; CC BY 4.0): 1,797 images, 10 classes. Each CSV row holds 64 pixel counts in 0..16, then the label.
 * Provenance in data/README.md.
 */
import { fileURLToPath } from 'node:url';
import type { Dataset } from './dataset.js';
import { featuresAndLabels, parseNumericRows, readDataFile, splitLines } from './csv.js';

/** The shipped file, resolved from this module so it works from any working directory. */
export const DIGITS_FILE = fileURLToPath(new URL('../../data/digits.csv.gz', import.meta.url));
export const DIGITS_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const HOW_TO_GET =
  'It ships with the repository as data/digits.csv.gz: restore it with `git checkout -- data/digits.csv.gz`, ' +
  'or copy digits.csv.gz from ../shared/datasets/ (provenance in data/README.md).';

// Each pixel counts the "on" bits in a 4x4 block of the original 32x32 bitmap, hence 0..16.
const MAX_PIXEL = 16;

/**
 * Loads the digits as [8, 8, 1] images with pixels scaled to [0, 1]. `file` defaults to the shipped
 * data/digits.csv.gz (gzipped or plain CSV both work). Throws DataError on a missing or damaged file.
 */
export function loadDigits(file: string = DIGITS_FILE): Dataset {
  const lines = splitLines(readDataFile(file, HOW_TO_GET));
  const table = parseNumericRows(lines, { file, columns: 65 });
  const { x, y } = featuresAndLabels(table, { file, numClasses: 10, featureRange: [0, MAX_PIXEL] });
  for (let i = 0; i < x.length; i++) x[i] /= MAX_PIXEL;
  return { name: 'digits', sampleShape: [8, 8, 1], x, y, numClasses: 10, classNames: DIGITS_CLASSES };
}
