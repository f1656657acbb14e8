/**
 * `distillery <command> [options]`. Every command has --help. Errors that come from the user's input
 * (bad flags, bad specs, missing data files) print one clear line and exit 2; anything else exits 1.
 */
import type { Command } from './command.js';
import { dispatch, exitWith } from './dispatch.js';
import { demoCommand } from './commands/demo.js';
import { trainCommand } from './commands/train.js';
import { evaluateCommand } from './commands/evaluate.js';
import { partitionCommand } from './commands/partition.js';
import { backendCommand } from './commands/backend.js';
import { distillCommand } from './commands/distill.js';
import { keysCommand } from './commands/keys.js';
import { coordinatorCommand } from './commands/coordinator.js';
import { agentCommand } from './commands/agent.js';

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

export function main(argv: string[]): Promise<number> {
  return dispatch(COMMANDS, argv, usage);
}

exitWith(main(process.argv.slice(2)));
