/**
 * `distillery <command> [options]`. Every command has --help. Errors that come from the user's input
 * (bad flags, bad specs, missing data files) print one clear line and exit 2; anything else exits 1.
 */
import { UsageError, helpText } from './args.js';
import type { Command } from './command.js';
import { demoCommand } from './commands/demo.js';
import { trainCommand } from './commands/train.js';
import { evaluateCommand } from './commands/evaluate.js';
import { partitionCommand } from './commands/partition.js';
import { backendCommand } from './commands/backend.js';
import { distillCommand } from './commands/distill.js';
import { keysCommand } from './commands/keys.js';
import { coordinatorCommand } from './commands/coordinator.js';
import { agentCommand } from './commands/agent.js';
import { DataError } from '../shared/data/dataset.js';
import { SpecError } from '../shared/models/spec.js';

const COMMANDS: Command[] = [demoCommand, distillCommand, coordinatorCommand, agentCommand, trainCommand, evaluateCommand, partitionCommand, backendCommand, keysCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'distillery: federated, data-free knowledge distillation for edge and IoT fleets',
    '',
    'Usage: distillery <command> [options]     (distillery <command> --help for its options)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
