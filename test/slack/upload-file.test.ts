import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSlackCalls } from '../../src/slack/web-api.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';

let slack: FakeSlack;
beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => slack.close());

const calls = () => createSlackCalls({ token: 'xoxb-test-token', apiUrl: slack.url });

/** A Web API call as a client would make it (form-encoded), for the protocol's refusals. */
async function api(method: string, args: Record<string, string>) {
  const response = await fetch(`${slack.url}${method}`, {
    method: 'POST',
    headers: { authorization: 'Bearer xoxb-test-token', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(args),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('sharing a file', () => {
  it('uploads in Slack’s two steps and shares the file, bytes intact, in the channel with its comment', async () => {
    const content = `${'é log line ✓\n'.repeat(3000)}`;
    await calls().uploadFile({
      channel: 'C0RUNS',
      filename: 'vm-1-vm-runner.log',
      title: 'Logs',
      content,
      comment: 'the runner',
    });
    expect(slack.files.shared).toEqual([
      expect.objectContaining({
        channel: 'C0RUNS',
        filename: 'vm-1-vm-runner.log',
        content,
        comment: 'the runner',
      }),
    ]);
    expect(slack.callsTo('files.getUploadURLExternal')[0]?.args).toMatchObject({
      filename: 'vm-1-vm-runner.log',
      length: String(Buffer.byteLength(content)),
    });
  });

  it('waits out a 429 and tries again', async () => {
    slack.fail('files.getUploadURLExternal', { status: 429, retryAfter: 1 });
    await calls().uploadFile({ channel: 'C0RUNS', filename: 'a.log', title: 'a', content: 'hello' });
    expect(slack.callsTo('files.getUploadURLExternal').map((c) => c.status)).toEqual([429, 200]);
    expect(slack.files.shared).toHaveLength(1);
  });

  it('is refused as Slack refuses it: no length, an unknown id, bytes never sent or of another size', async () => {
    expect(await api('files.getUploadURLExternal', { filename: 'a.log' })).toMatchObject({
      ok: false,
      error: 'invalid_arguments',
    });
    const files = (id: string) => JSON.stringify([{ id, title: 'a' }]);
    expect(
      await api('files.completeUploadExternal', { files: files('F0NEVER'), channel_id: 'C0RUNS' }),
    ).toEqual({
      ok: false,
      error: 'file_not_found',
    });
    const issued = await api('files.getUploadURLExternal', { filename: 'a.log', length: '5' });
    const id = String(issued.file_id);
    expect(await api('files.completeUploadExternal', { files: files(id), channel_id: 'C0RUNS' })).toEqual({
      ok: false,
      error: 'file_upload_incomplete',
    });
    const wrongSize = await fetch(String(issued.upload_url), { method: 'POST', body: 'too long' });
    expect(wrongSize.status).toBe(400);
    expect((await fetch(String(issued.upload_url), { method: 'POST', body: 'hello' })).status).toBe(200);
    expect(
      await api('files.completeUploadExternal', { files: files(id), channel_id: 'C0RUNS' }),
    ).toMatchObject({
      ok: true,
    });
    expect(slack.files.shared.map((f) => f.content)).toEqual(['hello']);
  });
});
