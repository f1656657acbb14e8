/** The shape of one CLI subcommand; cli/main.ts lists them all in one explicit table. */
import type { Flags } from './args.js';

export interface Command {
  name: string;
  usage: string;
  summary: string;
  flags: Flags;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}
