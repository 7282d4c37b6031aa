import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GitspacesError } from '../src/errors.js';
import { createLogger, runLogger, stepLogger } from '../src/log.js';
import { Redactor } from '../src/setup/redactor.js';

const TOKEN = 'hx-delegate-token-4f9a2c7e1b';
const TOKEN_B64 = Buffer.from(TOKEN).toString('base64');

function sink(isTTY = false) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  const chunks: string[] = [];
  stream.on('data', (c) => chunks.push(String(c)));
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, text, lines };
}

describe('createLogger', () => {
  it('writes one JSON object a line; a run logger puts runId, vm and step on every line', () => {
    const out = sink();
    const log = createLogger({ stream: out.stream });
    const run = runLogger(log, { runId: 'run_8Hq2', vm: 'runner-1' });
    run.info('queued');
    stepLogger(run, 'docker').info({ attempt: 2 }, 'installing Docker Engine');
    stepLogger(run, 'network').warn('network exists');
    const [queued, docker, network] = out.lines();
    expect(queued).toMatchObject({ level: 'info', runId: 'run_8Hq2', vm: 'runner-1', msg: 'queued' });
    expect(docker).toMatchObject({ runId: 'run_8Hq2', vm: 'runner-1', step: 'docker', attempt: 2 });
    expect(network).toMatchObject({ level: 'warn', step: 'network', msg: 'network exists' });
    expect(typeof queued?.time).toBe('string');
  });

  it("replaces a run's registered token and its base64 with *** in messages, fields, errors and arguments", () => {
    const out = sink();
    const redactor = new Redactor();
    const step = stepLogger(
      runLogger(createLogger({ stream: out.stream }), { runId: 'r1', vm: 'vm-a' }, redactor),
      'delegate',
    );
    // Registered after the logger was made, as a run learns its secrets during preflight.
    redactor.add(`${TOKEN}\n`);
    step.info(`env file has DELEGATE_TOKEN=${TOKEN}`);
    step.info({ output: { lines: [`token ${TOKEN_B64}`] }, argv: ['docker', TOKEN] }, 'ran');
    step.error(
      new GitspacesError('COMMAND_FAILED', `docker said ${TOKEN}`, { detail: `log tail: ${TOKEN}` }),
    );
    step.warn('value %s', TOKEN);
    step.info({ key: Buffer.from(TOKEN) }, 'read secret');
    const text = out.text();
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(TOKEN_B64);
    const [env, ran, failed, interpolated, buffer] = out.lines();
    expect(env?.msg).toBe('env file has DELEGATE_TOKEN=***');
    expect(ran).toMatchObject({
      output: { lines: ['token ***'] },
      argv: ['docker', '***'],
      step: 'delegate',
    });
    expect(failed).toMatchObject({ level: 'error', msg: 'docker said ***', runId: 'r1' });
    expect(failed?.err).toMatchObject({
      type: 'GitspacesError',
      code: 'COMMAND_FAILED',
      detail: 'log tail: ***',
    });
    expect(String((failed?.err as { stack?: string } | undefined)?.stack)).toContain('docker said ***');
    expect(interpolated?.msg).toBe('value ***');
    expect(buffer?.key).toBe(`[${TOKEN.length} bytes]`);
  });

  it("hides the process's secrets from every logger, bindings included, and one run's secrets from its own lines", () => {
    const out = sink();
    const processSecrets = new Redactor().add('xoxb-1111-2222-slack');
    const log = createLogger({ stream: out.stream, redactor: processSecrets });
    log.child({ client: 'token xoxb-1111-2222-slack' }).info('started');
    const other = runLogger(log, { runId: 'r2', vm: 'vm-b' }, new Redactor().add('other-run-secret'));
    other.info('sees other-run-secret and xoxb-1111-2222-slack');
    const text = out.text();
    expect(text).not.toContain('xoxb-1111-2222-slack');
    expect(out.lines()[0]).toMatchObject({ client: 'token ***' });
    expect(out.lines()[1]?.msg).toBe('sees *** and ***');
  });

  it('writes readable lines on a terminal: time, level, run, message, fields and an indented stack', () => {
    const out = sink(true);
    const run = runLogger(createLogger({ stream: out.stream }), {
      runId: 'run_8Hq2',
      vm: 'runner-1',
      step: 'runner',
    });
    run.info({ image: 'drone/drone-runner-aws:latest' }, 'container started');
    run.error(new Error('runner exited'));
    const [started, failed, stackLine] = out.text().split('\n');
    expect(started).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[run_8Hq2 runner-1 runner\] container started image=drone\/drone-runner-aws:latest$/,
    );
    expect(failed).toMatch(/ERROR \[run_8Hq2 runner-1 runner\] runner exited$/);
    expect(stackLine).toMatch(/^ {4}Error: runner exited$/);
    expect(out.text()).not.toContain('{');
  });

  it('leaves out lines below the level', () => {
    const out = sink();
    const log = createLogger({ stream: out.stream, level: 'warn' });
    log.info('chatty');
    log.warn('worth reading');
    expect(out.lines().map((l) => l.msg)).toEqual(['worth reading']);
  });
});
