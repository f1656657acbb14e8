/**
 * An output folder belongs to one set of teachers: its checkpoint, student and cached baselines (ensemble,
 * local mean, averaged teachers) were all computed with them. The distiller's checkpoint check covers the
 * distillation settings and seed only, so without this a changed `teachers` block (or dataset, partition,
 * limit) run into the same --out would resume another experiment's student and report its teachers' baselines.
 * The teachers are named by their cache keys (simulations/teachers.ts `teacherKey`), known before any trains.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../shared/fs/atomic.js';

export const TEACHERS_FILE = 'teachers.json';

/** The folder belongs to another run: a user's choice to make, not a crash (the CLI prints it as a usage error). */
export class OutputFolderError extends Error {}

/**
 * Records `teacherKeys` in `<out>/teachers.json`, or, when the folder already records others, throws an error
 * that names both and what to do. A folder from before this file existed is claimed as it is.
 */
export function claimOutputFolder(out: string, teacherKeys: string[]): void {
  const file = join(out, TEACHERS_FILE);
  if (existsSync(file)) {
    let recorded: unknown;
    try {
      recorded = (JSON.parse(readFileSync(file, 'utf8')) as { teachers?: unknown }).teachers;
    } catch (e) {
      throw new OutputFolderError(`${file} is not valid JSON (${(e as Error).message}); delete it if ${out} holds this scenario's run`);
    }
    if (JSON.stringify(recorded) === JSON.stringify(teacherKeys)) return;
    throw new OutputFolderError(
      `${out} holds a run with other teachers (${file} lists ${JSON.stringify(recorded)}, this scenario and seed train ${JSON.stringify(teacherKeys)}): ` +
        `the teachers block, dataset, partition or limit changed. Use another --out, or delete ${out} to start over`,
    );
  }
  writeFileAtomic(file, JSON.stringify({ teachers: teacherKeys }, null, 2) + '\n');
}
