import { describe, expect, it } from 'vitest';
import { runnerSpec } from '../../src/setup/container-specs.js';
import { parseObserved } from '../../src/setup/container-state.js';
import { PullProgress } from '../../src/setup/image-pull.js';
import type { SetupSettings } from '../../src/setup/settings.js';
import { describeDrift, driftOf } from '../../src/setup/steps/container.js';

const settings = {
  vm: 'vm-1',
  runnerDir: '/runner',
  dockerNetwork: 'harness',
  runnerImage: 'drone/drone-runner-aws:latest',
} as SetupSettings;
const spec = runnerSpec(settings, 'pool-hash');
const specLabel = spec.args[spec.args.indexOf('--label') + 1]?.split('=')[1] ?? '';

/** A runner as Docker 20.10 prints the bot's inspect format for it, with one field changed. */
function observed(change: Record<string, unknown> = {}, lines: { network?: string; image?: string } = {}) {
  const container = {
    status: 'running',
    startedAt: '2026-12-01T10:00:00.123456789Z',
    image: spec.image,
    imageId: 'sha256:aaaa1111bbbb2222',
    labels: { 'io.harness.gitspaces.spec': specLabel, 'io.harness.gitspaces.pool-sha256': 'pool-hash' },
    networks: { harness: { IPAMConfig: null, NetworkID: 'net-1', Aliases: ['vm-runner'] } },
    restart: 'unless-stopped',
    ports: { '3000/tcp': [{ HostIp: '', HostPort: '3000' }] },
    mounts: [{ Type: 'bind', Source: '/runner', Destination: '/runner', RW: true }],
    logs: { Type: 'json-file', Config: { 'max-file': '5', 'max-size': '20m' } },
    ...change,
  };
  return parseObserved(
    `${JSON.stringify(container)}\n${lines.network ?? 'net-1'}\n${lines.image ?? 'sha256:aaaa1111bbbb2222'}\n`,
  );
}

describe('what makes a container other than the wanted one', () => {
  it('finds nothing to change in the container the bot made', () => {
    expect(driftOf(observed(), spec)).toEqual({ kind: 'none' });
  });

  it.each([
    ['its network was removed and created again', {}, { network: 'net-2' }, 'removed and created again'],
    ['it was disconnected from the network', { networks: {} }, {}, 'not attached to network harness'],
    ['its tag was pulled again with new content', {}, { image: 'sha256:cccc3333dddd4444' }, 'cccc3333dddd'],
    ['its restart policy was changed', { restart: 'no' }, {}, 'restart policy no → unless-stopped'],
    ['it publishes another port', { ports: { '3000/tcp': [{ HostPort: '8080' }] } }, {}, 'published ports'],
    ['it mounts another directory', { mounts: [{ Source: '/srv', Destination: '/runner' }] }, {}, 'mounts'],
    ['the pool file changed', { labels: { 'io.harness.gitspaces.pool-sha256': 'old' } }, {}, 'pool file'],
    [
      'its logs never rotate',
      { logs: { Type: 'json-file', Config: {} } },
      {},
      'logs json-file, never rotated → rotated at 20m, 5 files',
    ],
    [
      'its logs rotate at other bounds',
      { logs: { Type: 'json-file', Config: { 'max-size': '1g' } } },
      {},
      'logs json-file max-size=1g → rotated at 20m, 5 files',
    ],
    ['its logs go to journald', { logs: { Type: 'journald', Config: {} } }, {}, 'logs journald →'],
  ])('recreates it when %s, and says so', (_why, change, lines, said) => {
    const seen = observed(change, lines);
    const drift = driftOf(seen, spec);
    expect(drift.kind).toBe('recreate');
    expect(describeDrift(spec, drift, seen.container)).toContain(said);
  });

  it("keeps a container whose logs rotate as wanted beside options of the daemon's own", () => {
    const logs = { Type: 'json-file', Config: { compress: 'true', 'max-file': '5', 'max-size': '20m' } };
    expect(driftOf(observed({ logs }), spec)).toEqual({ kind: 'none' });
  });

  it('creates the runner with rotating logs', () => {
    expect(spec.args.join(' ')).toContain(
      '--log-driver json-file --log-opt max-size=20m --log-opt max-file=5',
    );
  });

  it('starts a stopped container that is otherwise the wanted one', () => {
    expect(driftOf(observed({ status: 'exited' }), spec)).toEqual({ kind: 'stopped', status: 'exited' });
  });

  it('knows a container that is not there', () => {
    expect(driftOf(parseObserved('\nnet-1\n\n'), spec)).toEqual({ kind: 'missing' });
  });
});

describe('pull progress', () => {
  it('counts the layers done out of those announced', () => {
    const progress = new PullProgress();
    progress.add(
      'latest: Pulling from drone/drone-runner-aws\n0123456789ab: Pulling fs layer\nba9876543210: Already exists\n',
    );
    progress.add('0123456789ab: Downloading\n');
    expect([progress.done, progress.total]).toEqual([1, 2]);
    progress.add('0123456789ab: Pull complete\nDigest: sha256:00\n');
    expect([progress.done, progress.total]).toEqual([2, 2]);
  });
});
