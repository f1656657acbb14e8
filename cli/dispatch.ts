/** Runs one of `commands` for argv (`<command> [options]`): --help, usage errors as one line and exit 2. */
import { UsageError, helpText } from './args.js';
import type { Command } from './command.js';
import { DataError } from '../shared/data/dataset.js';
import { SpecError } from '../shared/models/spec.js';

export async function dispatch(commands: Command[], argv: string[], usage: () => string): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`distillery: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(helpText(command.usage, command.summary, command.flags));
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    // UsageError messages already start with the command name.
    if (e instanceof UsageError) {
      console.error(`distillery ${e.message}`);
      return 2;
    }
    if (e instanceof DataError || e instanceof SpecError) {
      console.error(`distillery ${name}: ${e.message}`);
      return 2;
    }
    console.error(`distillery ${name} failed: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

/** Runs a CLI entry point: exits with the command's code. */
export function exitWith(run: Promise<number>): void {
  run.then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
