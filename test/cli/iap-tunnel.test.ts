/**
 * A VM with no address this machine can route to (the Harness Gitspaces module makes its runner VM so),
 * set up from a terminal by name: found through Google's Compute client, reached through IAP by
 * SSH_PROXY_COMMAND (a stand-in for `gcloud compute start-iap-tunnel`, whose servers cannot run here).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { capturedIo } from '../support/cli-run.js';
import { startConnectProxy } from '../support/connect-proxy.js';
import type { FakeGoogle } from '../support/fake-google.js';
import { type IapRelayStandIn, startIapRelay } from '../support/iap-relay-stand-in.js';
import { TEST_TOKEN } from '../support/secrets-dir.js';
import type { TestSshd } from '../support/sshd.js';
import { PROJECT, startTerminalVm, type TerminalVm, ZONE } from '../support/terminal-vm.js';

const STAND_IN = join(dirname(fileURLToPath(import.meta.url)), '../support/iap-tunnel-stand-in.mjs');

let vm: TerminalVm;
let sshd: TestSshd;
let google: FakeGoogle;
let env: NodeJS.ProcessEnv;
let relay: IapRelayStandIn;

const io = () => capturedIo();

/** What the stand-in was run with, each time. */
const tunnels = (): { args: string[]; env: string[] }[] =>
  readFileSync(join(vm.dir, 'iap.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

beforeAll(async () => {
  vm = await startTerminalVm();
  ({ sshd, google } = vm);
  // Loopback addresses nothing listens on: a connection that went around the tunnel would be refused.
  google.addVm(`${PROJECT}/${ZONE}/gitspaces-runner`, { internalIp: '127.0.0.9', hostKeys: sshd.hostKeys });
  google.addVm(`${PROJECT}/${ZONE}/no-iap-rule`, { internalIp: '127.0.0.10', hostKeys: sshd.hostKeys });
  env = vm.env({
    DELEGATE_TOKEN_SECRET: 'env:GSB_DELEGATE_TOKEN',
    GSB_DELEGATE_TOKEN: TEST_TOKEN,
    SSH_USER: sshd.user,
    SLACK_BOT_TOKEN: 'xoxb-not-for-the-tunnel',
    SSH_PROXY_COMMAND: `${process.execPath} ${STAND_IN} {vm} {port} --listen-on-stdin --zone={zone} --project={project}`,
    IAP_STAND_IN_ROUTES: JSON.stringify({
      [`${PROJECT}/${ZONE}/gitspaces-runner`]: `127.0.0.1:${sshd.port}`,
    }),
    IAP_STAND_IN_LOG: join(vm.dir, 'iap.log'),
  });
  relay = await startIapRelay({ [`${PROJECT}/${ZONE}/gitspaces-runner`]: `127.0.0.1:${sshd.port}` });
}, 120_000);

afterAll(async () => {
  await relay?.close();
  await vm?.stop();
});

describe('a VM reached through IAP (SSH_PROXY_COMMAND)', () => {
  it('is set up by name from bare to healthy, the host key pinned from its guest attributes', async () => {
    const t = io();
    expect(await main(['setup', 'gitspaces-runner', '--yes'], env, t.io), t.err()).toBe(0);
    expect(t.out()).toContain(`${PROJECT}/${ZONE}/gitspaces-runner is RUNNING at 127.0.0.9`);
    expect(t.out()).toContain(`${sshd.user}@127.0.0.9:22 through SSH_PROXY_COMMAND, host key matches`);
    expect(t.out()).toContain('gitspaces-runner is set up');
    expect(t.out()).toMatch(/✓ delegate-health/);
    const names = Object.values(sshd.dockerState().containers).map((c) => c.name);
    expect(names.sort()).toEqual(['gitspaces-runner-delegate', 'vm-runner']);
    // The tunnel is asked for the VM by name, zone and project, on port 22.
    expect(tunnels()[0]?.args).toEqual([
      'gitspaces-runner',
      '22',
      '--listen-on-stdin',
      `--zone=${ZONE}`,
      `--project=${PROJECT}`,
    ]);
  });

  it('shows what is live with status, through the tunnel again', async () => {
    const before = tunnels().length;
    const t = io();
    expect(await main(['status', 'gitspaces-runner'], env, t.io), t.err()).toBe(0);
    expect(t.out()).toMatch(/runner: vm-runner: running .*healthy/);
    expect(tunnels().length).toBeGreaterThan(before);
  });

  it('gives the tunnel none of the bot’s secrets, in its arguments or its environment', () => {
    for (const { args, env: names } of tunnels()) {
      expect(JSON.stringify(args)).not.toContain(TEST_TOKEN);
      expect(names).not.toContain('GSB_DELEGATE_TOKEN');
      expect(names).not.toContain('SLACK_BOT_TOKEN');
      expect(names).toContain('IAP_STAND_IN_ROUTES');
    }
  });

  it('says what IAP answered, and what to check, when the tunnel cannot reach the VM', async () => {
    const t = io();
    expect(await main(['status', 'no-iap-rule'], env, t.io)).not.toBe(0);
    expect(t.err()).toContain(
      'SSH_PROXY_COMMAND exited with code 1 before the SSH session to no-iap-rule opened',
    );
    expect(t.err()).toContain("[4047: 'Failed to lookup instance']");
    expect(t.err()).toContain('35.235.240.0/20');
  });
});

describe('a VM reached through IAP by the bot itself (SSH_IAP, no Google Cloud CLI)', () => {
  it('is planned through the relay, nothing to change after the setup above', async () => {
    const { SSH_PROXY_COMMAND: _, ...withoutCommand } = env;
    const before = relay.tunnels.length;
    const t = io();
    const code = await main(
      ['plan', 'gitspaces-runner'],
      { ...withoutCommand, SSH_IAP: 'true', IAP_TUNNEL_URL: relay.url },
      t.io,
    );
    expect(code, t.err()).toBe(0);
    expect(t.out()).toContain(`${sshd.user}@127.0.0.9:22 through IAP, host key matches`);
    expect(relay.tunnels.length).toBeGreaterThan(before);
    // A local relay gets no credentials, as the local API URLs get none.
    expect(relay.tunnels.at(-1)?.authorization).toBeUndefined();
  });

  it('is looked at by check-config through the relay: sshd answers, or what IAP refused and why', async () => {
    const { SSH_PROXY_COMMAND: _, SLACK_BOT_TOKEN: __, ...withoutCommand } = env;
    const iap = { ...withoutCommand, SSH_IAP: 'true', IAP_TUNNEL_URL: relay.url };
    const reached = io();
    await main(['check-config', 'gitspaces-runner'], iap, reached.io);
    expect(reached.out()).toMatch(
      /^SSH to gitspaces-runner +ok +sshd answers at 127\.0\.0\.9:22 through IAP:/m,
    );
    expect(reached.out()).toContain('SSH-2.0-OpenSSH');
    const refused = io();
    await main(['check-config', 'no-iap-rule'], iap, refused.io);
    expect(refused.out()).toMatch(/^SSH to no-iap-rule +FAIL +IAP did not open a tunnel to no-iap-rule/m);
    expect(refused.out()).toMatch(/IAP found\s+no such VM/);
  });

  it('goes through the egress proxy HTTP_PROXY names, where nothing may leave directly', async () => {
    const { SSH_PROXY_COMMAND: _, ...withoutCommand } = env;
    const proxy = await startConnectProxy();
    try {
      const t = io();
      const through = {
        ...withoutCommand,
        SSH_IAP: 'true',
        IAP_TUNNEL_URL: relay.url,
        HTTP_PROXY: proxy.url,
      };
      expect(await main(['plan', 'gitspaces-runner'], through, t.io), t.err()).toBe(0);
      expect(t.out()).toContain(`${sshd.user}@127.0.0.9:22 through IAP, host key matches`);
      expect(proxy.targets).toContain(new URL(relay.url).host);
    } finally {
      await proxy.close();
    }
  });

  it('is refused with SSH_PROXY_COMMAND set too: SSH goes one way', async () => {
    const t = io();
    expect(await main(['plan', 'gitspaces-runner'], { ...env, SSH_IAP: 'true' }, t.io)).toBe(2);
    expect(t.err()).toContain('SSH_IAP and SSH_PROXY_COMMAND are both set');
  });
});
