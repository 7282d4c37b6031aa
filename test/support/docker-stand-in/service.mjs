/**
 * docker.service as systemd keeps it: whether it is enabled at boot and whether `systemctl start` started the
 * daemon, in `$FAKE_DOCKER_STATE/docker-service.json`. Before anything was enabled or started, the knob
 * FAKE_DOCKER_AT_BOOT (`enabled`, the default, or `disabled`) says how the VM came. The Docker stand-in asks
 * `serviceStarted` whether a stopped daemon (FAKE_DOCKER_NO_DAEMON) was started since.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knobs } from './knobs.mjs';
import { stateDir } from './state.mjs';

const file = (env) => join(stateDir(env), 'docker-service.json');

function read(env) {
  const saved = existsSync(file(env)) ? JSON.parse(readFileSync(file(env), 'utf8')) : {};
  return {
    enabled: env.FAKE_DOCKER_AT_BOOT === 'disabled' ? 'disabled' : 'enabled',
    started: false,
    ...saved,
  };
}

function write(env, service) {
  writeFileSync(file(env), JSON.stringify(service), { mode: 0o666 });
}

export function serviceStarted(env) {
  return read(env).started;
}

const UNIT = /^docker(\.service)?$/;

/** Root only, as systemd without polkit answers anyone else. */
function privileged(verb) {
  if (process.getuid() === 0) return true;
  process.stderr.write(`Failed to ${verb} unit: Access denied\n`);
  process.exitCode = 1;
  return false;
}

export function main() {
  const env = knobs();
  const [verb, ...rest] = process.argv.slice(2);
  // A VM booted with systemd (this machine's own systemctl would say `offline`).
  if (verb === 'is-system-running') return void process.stdout.write('running\n');
  const now = rest.includes('--now');
  const units = rest.filter((word) => !word.startsWith('-'));
  if (units.length !== 1 || !UNIT.test(units[0])) {
    const named = units.map((unit) => (unit.includes('.') ? unit : `${unit}.service`)).join(' ');
    process.stderr.write(`Failed to get unit file state for ${named}: No such file or directory\n`);
    process.exitCode = 1;
    return;
  }
  const service = read(env);
  switch (verb) {
    case 'is-enabled':
      process.stdout.write(`${service.enabled}\n`);
      process.exitCode = service.enabled === 'enabled' ? 0 : 1;
      return;
    case 'enable':
      if (!privileged('enable')) return;
      if (service.enabled !== 'enabled')
        process.stderr.write(
          'Created symlink /etc/systemd/system/multi-user.target.wants/docker.service → /lib/systemd/system/docker.service.\n',
        );
      write(env, { ...service, enabled: 'enabled', started: service.started || now });
      return;
    case 'start':
      if (!privileged('start')) return;
      write(env, { ...service, started: true });
      return;
    default:
      process.stderr.write(`Unknown command verb ${verb}.\n`);
      process.exitCode = 1;
  }
}
