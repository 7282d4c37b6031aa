import { describe, expect, it } from 'vitest';
import type { ContainerLogs } from '../../src/setup/container-logs.js';
import { LIMITS } from '../../src/slack/blocks/limits.js';
import { fitsInMessage, logsFile, logsMessage } from '../../src/slack/blocks/logs-message.js';

const logs = (text: string, requested = 100): ContainerLogs => ({
  vm: 'vm-1',
  container: 'vm-runner',
  requested,
  text,
});
const lines = (n: number, width = 10) =>
  Array.from({ length: n }, (_, i) => `${i}`.padEnd(width, '.')).join('\n');

describe('a container log in Slack', () => {
  it('goes in the message up to 60 lines that fit one section, as a file beyond', () => {
    expect(fitsInMessage(logs(lines(60)))).toBe(true);
    expect(fitsInMessage(logs(lines(61)))).toBe(false);
    // Escaping counts: 40 lines of `<` and `&` take more than a section once escaped.
    expect(fitsInMessage(logs(lines(40, 70)))).toBe(true);
    expect(fitsInMessage(logs(Array(40).fill('<&>'.repeat(23)).join('\n')))).toBe(false);
  });

  it('shows a header with VM, container and lines, then the whole log in a code block', () => {
    const message = logsMessage(logs('first\nlast <tag>', 20));
    const [header, body] = message.blocks.map((b) => JSON.stringify(b));
    expect(header).toContain('*vm-1* · `vm-runner` · last 20 lines (2 printed)');
    expect(body).toContain('```first\\nlast &lt;tag&gt;```');
    for (const block of message.blocks)
      expect(JSON.stringify(block).length).toBeLessThan(LIMITS.sectionText + 200);
  });

  it('says when the container printed nothing rather than showing an empty block', () => {
    expect(JSON.stringify(logsMessage(logs('')).blocks)).toContain('printed nothing yet');
  });

  it('names the file after the VM and container and keeps every byte of the log', () => {
    const text = lines(2000);
    expect(logsFile(logs(text, 2000))).toEqual({
      filename: 'vm-1-vm-runner.log',
      title: 'Logs of vm-runner on vm-1, last 2000 lines',
      content: `${text}\n`,
      comment: ':page_facing_up: *vm-1* · `vm-runner` · last 2000 lines',
    });
  });
});
