import { commandUsage, parseTargetArgs, USAGE, wantsHelp } from './cli/args.js';
import { parseLogsArgs } from './cli/logs-args.js';
import { applyTargetArgs, EXIT, type Io, terminalRun, terminalStatus } from './cli/terminal-run.js';
import { loadConfig, type Need } from './config.js';
import { asGitspacesError, GitspacesError } from './errors.js';

const NEEDS: Record<string, Need[]> = {
  setup: ['secrets', 'harness'],
  plan: ['secrets', 'harness'],
  upgrade: ['secrets', 'harness'],
  status: [],
  // Every secret is read so that the log can be redacted of it.
  logs: ['secrets'],
  audit: [],
  serve: ['slack', 'approvers', 'secrets', 'harness'],
  app: ['slack', 'approvers', 'secrets', 'harness'],
  worker: ['slack', 'approvers', 'secrets', 'harness'],
};

/** Settings missing at `serve`/`app`/`worker` (often a first `npm start`): where to look next. */
function withStartHint<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof GitspacesError && error.code === 'CONFIG_INVALID')
      throw new GitspacesError(
        'CONFIG_INVALID',
        `${error.message}\nRun \`gitspaces-bot check-config\` (npx gitspaces-bot check-config) to check every setting and whether Redis, Slack and Google answer.\nNo public URL? Set SLACK_APP_TOKEN (an app-level token, xapp-…) for Socket Mode: the bot connects out to Slack and needs no public URL or SLACK_SIGNING_SECRET.`,
      );
    throw error;
  }
}

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
        if (wantsHelp(rest)) {
          io.stdout.write(`${commandUsage(command)}\n`);
          return EXIT.ok;
        }
        const args = parseTargetArgs(rest);
        if (command !== 'upgrade' && (args.delegate !== undefined || args.runner !== undefined))
          throw new GitspacesError('USAGE', `--delegate and --runner belong to upgrade.\n\n${USAGE}`);
        const config = applyTargetArgs(loadConfig(env, { needs: NEEDS[command] ?? [] }), args);
        return command === 'status'
          ? await terminalStatus(config, args, io)
          : await terminalRun(command, config, args, io);
      }
      case 'logs': {
        if (wantsHelp(rest)) {
          io.stdout.write(`${commandUsage(command)}\n`);
          return EXIT.ok;
        }
        const args = parseLogsArgs(rest);
        const config = applyTargetArgs(loadConfig(env, { needs: NEEDS.logs ?? [] }), args.target);
        const { terminalLogs } = await import('./cli/terminal-logs.js');
        return await terminalLogs(config, args, io);
      }
      case 'serve':
      case 'app':
      case 'worker': {
        if (wantsHelp(rest)) {
          io.stdout.write(`${USAGE}\n`);
          return EXIT.ok;
        }
        const config = withStartHint(() => loadConfig(env, { needs: NEEDS[command] ?? [] }));
        const { serve } = await import('./serve.js');
        // npm runs the script through `sh -c`: if npm is killed, only noticing it can stop the bot.
        return await serve(command, config, io, { watchParent: env.npm_lifecycle_event !== undefined });
      }
      case 'audit': {
        const { AUDIT_USAGE, parseAuditArgs } = await import('./cli/audit-args.js');
        if (wantsHelp(rest)) {
          io.stdout.write(`${AUDIT_USAGE}\n`);
          return EXIT.ok;
        }
        const args = parseAuditArgs(rest);
        const { runAudit } = await import('./cli/audit.js');
        return await runAudit(loadConfig(env, { needs: NEEDS[command] ?? [] }), args, io);
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
