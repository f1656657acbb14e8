/**
 * `distillery-agent <start|predict|train-teacher> [options]`: the agent's commands alone. This is the entry
 * point bundled into dist/distillery-agent.mjs (npm run build), so a device runs plain JavaScript without
 * TypeScript tooling and without the coordinator's and simulations' code: about 60 MB less RSS.
 */
import { agentCommand } from './commands/agent.js';
import { dispatch, exitWith } from './dispatch.js';
import { helpText } from './args.js';

const usage = () => helpText(agentCommand.usage.replaceAll('distillery agent', 'distillery-agent'), agentCommand.summary, agentCommand.flags);
// `distillery-agent agent start` works too, so one argv serves both entry points (the daemon's child uses it).
const argv = process.argv[2] === 'agent' ? process.argv.slice(3) : process.argv.slice(2);
exitWith(argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' ? Promise.resolve((console.log(usage()), 0)) : dispatch([agentCommand], ['agent', ...argv], usage));
