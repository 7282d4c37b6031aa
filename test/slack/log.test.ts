import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { boltLogger } from '../../src/slack/log.js';

function capture(level: string) {
  const stream = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
      lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { log: pino({ level }, stream), lines };
}

describe('Bolt’s log lines', () => {
  it('become structured lines at their level, and debug lines are not even formatted when debug is off', async () => {
    const { log, lines } = capture('info');
    const bolt = boltLogger(log);
    let formatted = 0;
    const body = {
      toJSON() {
        formatted++;
        return { command: '/gitspaces' };
      },
    };
    bolt.debug('request body', body);
    bolt.warn('listener slow', body);
    await new Promise((resolve) => setImmediate(resolve));
    expect(formatted).toBe(1);
    expect(lines).toMatchObject([
      { level: 40, source: 'bolt', msg: 'listener slow {"command":"/gitspaces"}' },
    ]);
  });

  it('writes debug lines when debug is on', async () => {
    const { log, lines } = capture('debug');
    boltLogger(log).debug('ack() response sent');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toMatchObject([{ level: 20, source: 'bolt', msg: 'ack() response sent' }]);
  });
});
