import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/check-config.js';
import { main } from '../../src/cli.js';
import { capturedIo } from '../support/cli-run.js';
import { ed25519HostKey, type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { writeServiceAccountKey } from '../support/service-account-key.js';
import { ed25519KeyPair } from '../support/ssh-keys.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const BOT_TOKEN = 'xoxb-check-config-token-1234';
const DELEGATE_TOKEN = 'delegate-token-never-shown-5678';
const PAIR = ed25519KeyPair();
const KEY = PAIR.private;
/** A line of the private key's body: none of it may be shown. */
const KEY_BODY = KEY.split('\n')[2] ?? '';
/** `ssh-ed25519 AAAA…`, as a VM's ssh-keys metadata holds it. */
const PUBLIC = PAIR.public.trim().split(/\s+/).slice(0, 2).join(' ');
const BOT = 'gitspaces-bot@acme-prod.iam.gserviceaccount.com';
let credentials: string;

let slack: FakeSlack;
let google: FakeGoogle;
/** The VMs' sshd: every VM of this file is at a loopback address, on its port. */
let sshd: TestSshd;
/** Accepts connections and never answers: a firewall that drops, a hung proxy. */
let silent: Server;
const sockets: Socket[] = [];
let closedPort: number;

beforeAll(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN });
  sshd = await startSshd({ dockerStandIn: false });
  google = await startFakeGoogle();
  google
    .addSecret('acme-prod', 'pool', 'version: "1"\ninstances: []\n')
    .addSecret('acme-prod', 'delegate-token', DELEGATE_TOKEN)
    .addSecret('acme-prod', 'ssh-key', KEY)
    .addSecret('acme-prod', 'public-half', PAIR.public)
    .addVm('acme-prod/us-central1-a/runner-1', { internalIp: '127.0.0.1', hostKeys: [ed25519HostKey()] })
    .addVm('acme-prod/us-central1-a/keyed', {
      internalIp: '127.0.0.1',
      hostKeys: [ed25519HostKey()],
      metadata: { 'enable-guest-attributes': 'TRUE', 'ssh-keys': `gitspaces:${PUBLIC} gitspaces-bot` },
    })
    .addVm('acme-prod/us-central1-a/oslogin', {
      internalIp: '127.0.0.1',
      hostKeys: [ed25519HostKey()],
      metadata: { 'enable-guest-attributes': 'TRUE', 'enable-oslogin': 'TRUE' },
    })
    .addVm('acme-prod/us-central1-a/security-keys', {
      internalIp: '127.0.0.1',
      hostKeys: [ed25519HostKey()],
      metadata: { 'enable-guest-attributes': 'TRUE', 'enable-oslogin': 'TRUE', 'enable-oslogin-sk': 'TRUE' },
    });
  google.osLogin.addIdentity(BOT, 'sa_1170');
  credentials = writeServiceAccountKey(mkdtempSync(join(tmpdir(), 'check-config-')), BOT);
  silent = createTcpServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const spare = createTcpServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
  await slack?.close();
  await google?.close();
  await sshd?.stop();
});

function silentUrl(scheme: string): string {
  return `${scheme}://127.0.0.1:${(silent.address() as AddressInfo).port}`;
}

function goodEnv(): NodeJS.ProcessEnv {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: 'signing-secret-abcdef',
    SLACK_API_URL: slack.url,
    APPROVERS: 'U0APPROVER',
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    GCP_PROJECT: 'acme-prod',
    GCP_ZONE: 'us-central1-a',
    COMPUTE_API_URL: google.url,
    SECRET_MANAGER_API_URL: google.url,
    POOL_SECRET: 'pool',
    DELEGATE_TOKEN_SECRET: 'delegate-token',
    SSH_KEY_SECRET: 'ssh-key',
    REDIS_URL: 'redis://127.0.0.1:6379',
    SSH_PORT: String(sshd.port),
  };
}

async function run(env: NodeJS.ProcessEnv, argv: string[] = [], timeoutMs = 3000) {
  const t = capturedIo();
  const code = await checkConfig(env, argv, t.io, { dotEnv: false, timeoutMs });
  const text = t.out();
  return { code, out: text, err: t.err(), row: (check: string) => rowOf(text, check) };
}

/** The cells of the table row whose CHECK is `check`, each cell's wrapped lines joined again. */
function rowOf(
  table: string,
  check: string,
): { status: string; detail: string; fix: string; text: string } | undefined {
  const lines = table.split('\n');
  const header = lines[0] ?? '';
  const starts = ['CHECK', 'STATUS', 'DETAIL', 'FIX'].map((h) => header.indexOf(h));
  const cells = (line: string) => starts.map((s, i) => line.slice(s, starts[i + 1]).trim());
  // A row starts where its STATUS cell is filled; its wrapped lines follow with that cell empty.
  const rows: string[][][] = [];
  for (const line of lines.slice(2)) {
    if (line === '') break;
    if (cells(line)[1] !== '') rows.push([]);
    rows.at(-1)?.push(cells(line));
  }
  const joined = rows.map((lines) =>
    starts.map((_, i) =>
      lines
        .map((c) => c[i])
        .filter(Boolean)
        .join(' '),
    ),
  );
  const found = joined.find((cells) => cells[0] === check);
  if (found === undefined) return undefined;
  const [, status = '', detail = '', fix = ''] = found;
  return { status, detail, fix, text: `${detail} ${fix}` };
}

describe('gitspaces-bot check-config', () => {
  it('passes with exit 0 when every setting, Redis, Slack, the secrets and the VM are right, and shows no secret', async () => {
    const r = await run(goodEnv(), ['runner-1']);
    expect(r.code).toBe(0);
    expect(r.row('settings')?.status).toBe('ok');
    expect(r.row('Redis')?.text).toContain('answers PONG');
    expect(r.row('Slack auth.test')?.text).toContain('workspace Fake');
    expect(r.row('POOL_SECRET pool')?.status).toBe('ok');
    expect(r.row('DELEGATE_TOKEN_SECRET delegate-token')?.status).toBe('ok');
    expect(r.row('SSH_KEY_SECRET ssh-key')?.status).toBe('ok');
    expect(r.row('VM runner-1')?.text).toContain('RUNNING at 127.0.0.1');
    expect(r.row('SSH to runner-1')?.detail).toMatch(/^sshd answers at 127\.0\.0\.1:\d+: SSH-2\.0-OpenSSH/);
    expect(r.row('SSH key on runner-1')?.text).toContain(
      "not in the VM's ssh-keys metadata (or where OS Login is on, the bot's OS Login profile): setup adds it there if the VM refuses the key",
    );
    expect(r.out).toContain('All 10 checks passed.');
    for (const secret of [BOT_TOKEN, DELEGATE_TOKEN, KEY_BODY, 'signing-secret-abcdef']) {
      expect(r.out).not.toContain(secret);
    }
  });

  it('lists each bad or missing setting as its own failing row and still checks Redis, Slack and the secrets', async () => {
    const env = { ...goodEnv(), PORT: 'eighty', APPROVERS: undefined, HARNESS_ACCOUNT_ID: undefined };
    const r = await run(env);
    expect(r.code).toBe(1);
    expect(r.row('PORT')).toMatchObject({ status: 'FAIL' });
    expect(r.row('PORT')?.text).toContain('PORT=eighty is not a whole number');
    expect(r.row('APPROVERS')?.text).toContain('Set APPROVERS in the environment or in .env');
    expect(r.row('HARNESS_ACCOUNT_ID')?.status).toBe('FAIL');
    expect(r.row('Redis')?.status).toBe('ok');
    expect(r.row('Slack auth.test')?.status).toBe('ok');
    expect(r.row('POOL_SECRET pool')?.status).toBe('ok');
    expect(r.out).toMatch(/3 of 10 checks failed: .* again \(6 passed, 1 skipped\)\./);
  });

  it('names the scopes a token of an app installed from an older manifest lacks, and how to reinstall it', async () => {
    const older = await startFakeSlack({
      token: BOT_TOKEN,
      scopes: ['commands', 'chat:write', 'chat:write.public'],
    });
    try {
      const r = await run({ ...goodEnv(), SLACK_API_URL: older.url });
      expect(r.code).toBe(1);
      expect(r.row('Slack auth.test')?.status).toBe('FAIL');
      expect(r.row('Slack auth.test')?.detail).toContain(
        'but it lacks files:write (/gitspaces logs sharing a long log as a file), usergroups:read',
      );
      expect(r.row('Slack auth.test')?.fix).toContain('Reinstall');
    } finally {
      await older.close();
    }
  });

  it('says to fix the token when Slack refuses it, without printing it', async () => {
    const wrong = 'xoxb-a-wrong-token-9999';
    const r = await run({ ...goodEnv(), SLACK_BOT_TOKEN: wrong });
    expect(r.code).toBe(1);
    expect(r.row('Slack auth.test')?.text).toContain('Slack refused SLACK_BOT_TOKEN (invalid_auth)');
    expect(r.row('Slack auth.test')?.text).toContain('OAuth & Permissions');
    expect(r.out).not.toContain(wrong);
  });

  it('says Slack cannot be reached when nothing listens at SLACK_API_URL or it never answers', async () => {
    const refused = await run({ ...goodEnv(), SLACK_API_URL: `http://127.0.0.1:${closedPort}/api/` });
    expect(refused.row('Slack auth.test')?.text).toContain('cannot be reached (ECONNREFUSED)');
    const hung = await run({ ...goodEnv(), SLACK_API_URL: `${silentUrl('http')}/api/` }, [], 300);
    expect(hung.code).toBe(1);
    expect(hung.row('Slack auth.test')?.text).toContain('cannot be reached (no answer within 0.3 s)');
  });

  it('says to start Redis or fix REDIS_URL when Redis is down or never answers', async () => {
    const down = await run({ ...goodEnv(), REDIS_URL: `redis://127.0.0.1:${closedPort}` });
    expect(down.code).toBe(1);
    expect(down.row('Redis')?.text).toContain(`redis://127.0.0.1:${closedPort} does not answer`);
    expect(down.row('Redis')?.text).toContain('ECONNREFUSED');
    expect(down.row('Redis')?.text).toContain('Start Redis');
    expect(down.row('Redis')?.text).toContain('REDIS_URL');
    const hung = await run({ ...goodEnv(), REDIS_URL: silentUrl('redis') }, [], 300);
    expect(hung.row('Redis')?.status).toBe('FAIL');
    expect(hung.row('Redis')?.text).toContain('does not answer');
  });

  it('shows a missing secret, an unreachable Secret Manager and an unknown VM with how to fix each', async () => {
    const missing = await run({ ...goodEnv(), POOL_SECRET: 'no-such-pool' }, ['gone-vm']);
    expect(missing.code).toBe(1);
    expect(missing.row('POOL_SECRET no-such-pool')?.text).toContain('gcloud secrets create no-such-pool');
    expect(missing.row('VM gone-vm')?.status).toBe('FAIL');
    const hung = await run({ ...goodEnv(), SECRET_MANAGER_API_URL: silentUrl('http') }, [], 300);
    expect(hung.row('POOL_SECRET pool')?.text).toContain('did not answer within 0.3 s');
  });

  it("says whether sshd answers on the VM and where the bot's key is let in, and as whom, changing nothing", async () => {
    const keyed = await run(goodEnv(), ['keyed']);
    expect(keyed.row('SSH key on keyed')?.detail).toBe(
      "in the VM's ssh-keys metadata: the bot logs in as gitspaces",
    );
    const env = { ...goodEnv(), OS_LOGIN_API_URL: google.url, GOOGLE_APPLICATION_CREDENTIALS: credentials };
    const before = await run(env, ['oslogin']);
    expect(before.row('SSH key on oslogin')?.status).toBe('ok');
    expect(before.row('SSH key on oslogin')?.text).toContain(
      "the bot's OS Login profile): setup adds it there",
    );
    google.osLogin.addKey(BOT, PUBLIC, 'acme-prod');
    const after = await run(env, ['oslogin']);
    expect(after.row('SSH key on oslogin')?.text).toContain(
      `in the OS Login profile of ${BOT}: the bot logs in as sa_1170`,
    );
    const shut = await run(env, ['security-keys']);
    expect(shut.code).toBe(1);
    expect(shut.row('SSH key on security-keys')?.status).toBe('FAIL');
    expect(shut.row('SSH key on security-keys')?.detail).toContain('enable-oslogin-sk=TRUE (on the VM)');
    expect(shut.row('SSH key on security-keys')?.fix).toContain('--metadata enable-oslogin-sk=FALSE');
    const publicOnly = await run({ ...goodEnv(), SSH_KEY_SECRET: 'public-half' }, ['runner-1']);
    expect(publicOnly.row('SSH key on runner-1')?.status).toBe('FAIL');
    expect(publicOnly.row('SSH key on runner-1')?.detail).toContain('it is a public key, not a private one');
    const refused = await run({ ...goodEnv(), SSH_PORT: String(closedPort) }, ['runner-1']);
    expect(refused.row('SSH to runner-1')?.status).toBe('FAIL');
    expect(refused.row('SSH to runner-1')?.text).toContain('connection refused: is sshd running on the VM');
    const off = await run({ ...goodEnv(), SSH_AUTHORIZE_KEY: 'off' }, ['runner-1']);
    expect(off.row('SSH key on runner-1')).toBeUndefined();
    const writes = google.requests.filter((r) => r.method === 'POST');
    expect(writes).toEqual([]);
  });

  it('checks a known_hosts file when SSH_HOST_KEY_POLICY=known-hosts', async () => {
    const r = await run({
      ...goodEnv(),
      SSH_HOST_KEY_POLICY: 'known-hosts',
      SSH_KNOWN_HOSTS: '/nonexistent/known_hosts',
    });
    expect(r.row('SSH_KNOWN_HOSTS')?.text).toContain('cannot be read (ENOENT)');
    expect(r.code).toBe(1);
  });

  it('finds SSH_PROXY_COMMAND’s program, or says to install it, and refuses a placeholder it does not know', async () => {
    const iap =
      'gcloud compute start-iap-tunnel {vm} {port} --listen-on-stdin --zone={zone} --project={project}';
    const empty = mkdtempSync(join(tmpdir(), 'gsb-path-'));
    const withoutGcloud = await run({ ...goodEnv(), SSH_PROXY_COMMAND: iap, PATH: empty });
    expect(withoutGcloud.row('SSH_PROXY_COMMAND')?.status).toBe('FAIL');
    expect(withoutGcloud.row('SSH_PROXY_COMMAND')?.text).toContain('`gcloud` is not found on this machine');
    expect(withoutGcloud.row('SSH_PROXY_COMMAND')?.text).toContain('Google Cloud CLI');
    expect(withoutGcloud.code).toBe(1);

    const bastion = await run({
      ...goodEnv(),
      SSH_PROXY_COMMAND: 'ssh -W {host}:{port} bastion',
      PATH: '/usr/local/bin:/usr/bin:/bin',
    });
    expect(bastion.row('SSH_PROXY_COMMAND')?.text).toMatch(/SSH goes through `ssh` \(\/usr\/bin\/ssh\)/);
    expect(bastion.row('settings')?.text).toContain('SSH as gitspaces to VMs through SSH_PROXY_COMMAND');
    expect(bastion.code).toBe(0);

    const typo = await run({ ...goodEnv(), SSH_PROXY_COMMAND: 'ssh -W {hostname}:{port} bastion' });
    expect(typo.row('SSH_PROXY_COMMAND')?.text).toContain(
      'SSH_PROXY_COMMAND names {hostname}: it may name {vm}',
    );
  });

  it('exits 2 with usage for more than one VM or an unknown option, through the gitspaces-bot command', async () => {
    for (const argv of [
      ['check-config', 'vm-a', 'vm-b'],
      ['check-config', '--bogus'],
    ]) {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const err: string[] = [];
      stderr.on('data', (c) => err.push(String(c)));
      expect(await main(argv, goodEnv(), { stdin: new PassThrough(), stdout, stderr })).toBe(2);
      expect(err.join('')).toContain('Usage: gitspaces-bot check-config [<vm>]');
    }
  });
});
