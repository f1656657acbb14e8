/**
 * Breast Cancer Wisconsin (Diagnostic) (Street, Wolberg & Mangasarian 1993; CC BY 4.0): 569 tumours,
 * 30 real-valued nucleus features, malignant (0) or benign (1). Our healthcare case. The CSV is
 * scikit-learn's: a header `569,30,malignant,benign` (rows, features, class names), then one row per
 * tumour with the label last. Provenance in data/README.md. Features are raw; see standardize.ts.
 */
import { fileURLToPath } from 'node:url';
import { DataError, type Dataset } from './dataset.js';
import { featuresAndLabels, parseNumericRows, readDataFile, splitLines } from './csv.js';

/** The shipped file, resolved from this module so it works from any working directory. */
export const BREAST_CANCER_FILE = fileURLToPath(new URL('../../data/breast_cancer.csv', import.meta.url));

const HOW_TO_GET =
  'It ships with the repository as data/breast_cancer.csv: restore it with `git checkout -- data/breast_cancer.csv`, ' +
  'or copy breast_cancer.csv from ../shared/datasets/ (provenance in data/README.md).';
const FEATURES = 30;
const CLASSES = 2;

/** The sklearn-style header: declared row count, feature count and class names. */
function parseHeader(line: string | undefined, file: string): { rows: number; features: number; classNames: string[] } {
  const cells = (line ?? '').split(',').map((c) => c.trim());
  if (cells.length < 3 || !/^\d+$/.test(cells[0]) || !/^\d+$/.test(cells[1])) {
    throw new DataError('corrupt-file', `${file}: line 1 must be a header 'rows,features,className,...' (e.g. '569,30,malignant,benign'), found '${(line ?? '').slice(0, 60)}'`);
  }
  return { rows: Number(cells[0]), features: Number(cells[1]), classNames: cells.slice(2) };
}

/**
 * Loads the 569 x 30 raw features with labels 0 = malignant, 1 = benign. `file` defaults to the shipped
 * data/breast_cancer.csv (a gzipped copy works too). Throws DataError on a missing or damaged file,
 * including a row count that disagrees with the header.
 */
export function loadBreastCancer(file: string = BREAST_CANCER_FILE): Dataset {
  const lines = splitLines(readDataFile(file, HOW_TO_GET));
  const header = parseHeader(lines[0], file);
  if (header.features !== FEATURES || header.classNames.length !== CLASSES) {
    throw new DataError(
      'corrupt-file',
      `${file}: header declares ${header.features} features and ${header.classNames.length} classes; breast cancer has ${FEATURES} and ${CLASSES}`,
    );
  }
  const table = parseNumericRows(lines.slice(1), { file, columns: FEATURES + 1, firstLine: 2 });
  if (table.rows !== header.rows) {
    throw new DataError(
      'corrupt-file',
      `${file}: header declares ${header.rows} rows but the file holds ${table.rows}${table.rows < header.rows ? ' (truncated?)' : ''}`,
    );
  }
  const { x, y } = featuresAndLabels(table, { file, numClasses: CLASSES });
  return { name: 'breast-cancer', sampleShape: [FEATURES], x, y, numClasses: CLASSES, classNames: header.classNames };
}
