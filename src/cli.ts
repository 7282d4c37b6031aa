import { parseTargetArgs, USAGE } from './cli/args.js';
import { applyTargetArgs, EXIT, type Io, terminalRun, terminalStatus } from './cli/terminal-run.js';
import { loadConfig, type Need } from './config.js';
import { asGitspacesError, GitspacesError } from './errors.js';

const NEEDS: Record<string, Need[]> = {
  setup: ['secrets', 'harness'],
  plan: ['secrets', 'harness'],
  upgrade: ['secrets', 'harness'],
  status: [],
  serve: ['slack', 'approvers', 'secrets', 'harness'],
  app: ['slack', 'approvers', 'secrets', 'harness'],
  worker: ['slack', 'approvers', 'secrets', 'harness'],
};

/** The `gitspaces-bot` command. Returns the exit code. */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: Io = process,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${USAGE}\n`);
        return command === undefined ? EXIT.usage : EXIT.ok;
      case 'setup':
      case 'plan':
      case 'upgrade':
      case 'status': {
        const args = parseTargetArgs(rest);
        if (command !== 'upgrade' && (args.delegate !== undefined || args.runner !== undefined))
          throw new GitspacesError('USAGE', `--delegate and --runner belong to upgrade.\n\n${USAGE}`);
        const config = applyTargetArgs(loadConfig(env, { needs: NEEDS[command] ?? [] }), args);
        return command === 'status'
          ? await terminalStatus(config, args, io)
          : await terminalRun(command, config, args, io);
      }
      case 'serve':
      case 'app':
      case 'worker': {
        const { serve } = await import('./serve.js');
        return await serve(command, loadConfig(env, { needs: NEEDS[command] ?? [] }), io);
      }
      case 'check-config': {
        const { checkConfig } = await import('./check-config.js');
        return await checkConfig(env, rest, io);
      }
      default:
        throw new GitspacesError('USAGE', `Unknown command "${command}".\n\n${USAGE}`);
    }
  } catch (error) {
    const e = asGitspacesError(error);
    io.stderr.write(`${e.message}\n${e.detail ? `${e.detail}\n` : ''}`);
    return e.code === 'USAGE' || e.code === 'CONFIG_INVALID' || e.code === 'VM_NAME_INVALID'
      ? EXIT.usage
      : EXIT.failed;
  }
}
