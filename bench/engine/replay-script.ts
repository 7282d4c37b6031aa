/**
 * The floor of a run: the commands the engine ran, as one shell script through one `ssh` invocation of
 * OpenSSH's client. Each command runs as sshd runs an exec request (`sh -c <command>`), output and exit
 * codes as they come (stdin, where a command was given some, from a here-document); each SFTP write becomes a base64 decode into the file with the same mode.
 */
import { spawn } from 'node:child_process';
import { quote } from '../../src/setup/shell.js';
import { now } from '../lib/clock.js';
import type { RecordedOp } from './recording-connector.js';

const STDIN_END = '__gitspaces_bench_stdin__';

export function replayScript(ops: RecordedOp[]): string {
  const lines = ops.map((op) => {
    // A command given stdin (a file's content) reads it from a here-document, as over the bot's own shell.
    if (op.kind === 'exec' && op.stdin !== undefined) {
      const body = op.stdin === '' || op.stdin.endsWith('\n') ? op.stdin : `${op.stdin}\n`;
      return `sh -c ${quote(op.command)} <<'${STDIN_END}'\n${body}${STDIN_END}`;
    }
    if (op.kind === 'exec') return `sh -c ${quote(op.command)} </dev/null`;
    const mode = op.mode.toString(8);
    return `(umask 077; printf '%s' ${quote(op.content.toString('base64'))} | base64 -d > ${quote(op.path)}) && chmod ${mode} ${quote(op.path)}`;
  });
  return `${lines.join('\n')}\nexit 0\n`;
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  keyFile: string;
  knownHostsFile: string;
}

/** Runs `script` on the target through one `ssh` process; resolves with its wall time in ms. */
export function runOverSsh(target: SshTarget, script: string): Promise<{ ms: number; stdout: string }> {
  const args = [
    '-F',
    '/dev/null',
    '-i',
    target.keyFile,
    '-p',
    String(target.port),
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${target.knownHostsFile}`,
    '-o',
    'LogLevel=ERROR',
    `${target.user}@${target.host}`,
    'sh',
    '-s',
  ];
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = now() - started;
      if (code !== 0) reject(new Error(`ssh exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ ms, stdout });
    });
    child.stdin.end(script);
  });
}
