/** Networks by name and id. Removing one and creating it again gives a new id, as in Docker. */
import { createHash } from 'node:crypto';
import { DaemonError } from './errors.mjs';
import { hexId, nextTime } from './state.mjs';

/** The networks every engine has; they cannot be created or removed. */
const BUILTIN = ['bridge', 'host', 'none'].map((name) => ({
  id: createHash('sha256').update(`builtin ${name}`).digest('hex'),
  name,
  driver: name === 'bridge' ? 'bridge' : name,
  created: '2026-01-01T00:00:00.000000000Z',
  subnet: name === 'bridge' ? '172.17.0.0/16' : '',
  builtin: true,
}));

export function allNetworks(state) {
  return [...BUILTIN, ...Object.values(state.networks)];
}

/** By exact name, full id, or a unique id prefix. */
export function findNetwork(state, ref) {
  const all = allNetworks(state);
  return (
    all.find((n) => n.name === ref) ??
    all.find((n) => n.id === ref) ??
    (() => {
      const byPrefix = all.filter((n) => n.id.startsWith(ref));
      return ref.length > 0 && byPrefix.length === 1 ? byPrefix[0] : undefined;
    })()
  );
}

export function createNetwork(state, name, driver = 'bridge') {
  if (findNetwork(state, name)?.name === name)
    throw new DaemonError(`network with name ${name} already exists`);
  const subnet = `172.${18 + Object.keys(state.networks).length}.0.0/16`;
  const network = { id: hexId(), name, driver, created: nextTime(state), subnet, builtin: false };
  state.networks[name] = network;
  return network;
}

/** Containers attached to `network` now (by its id), running or not. */
export const attached = (state, network) =>
  Object.values(state.containers).filter((c) => Object.values(c.networks).some((a) => a.id === network.id));

export function removeNetwork(state, ref) {
  const network = findNetwork(state, ref);
  if (!network) throw new DaemonError(`network ${ref} not found`);
  if (network.builtin)
    throw new DaemonError(`${network.name} is a pre-defined network and cannot be removed`, 1);
  const active = attached(state, network).filter((c) => c.status === 'running' || c.status === 'restarting');
  if (active.length > 0)
    throw new DaemonError(
      `error while removing network: network ${network.name} has active endpoints (${active.map((c) => `name:"${c.name}" id:"${c.id.slice(0, 12)}"`).join(' ')})`,
    );
  delete state.networks[network.name];
}

export function disconnect(network, c) {
  const entry = Object.entries(c.networks).find(([, a]) => a.id === network.id);
  if (!entry) throw new DaemonError(`container ${c.id} is not connected to network ${network.name}`);
  delete c.networks[entry[0]];
}

export function connect(state, network, c) {
  if (Object.values(c.networks).some((a) => a.id === network.id))
    throw new DaemonError(`endpoint with name ${c.name} already exists in network ${network.name}`, 1);
  c.networks[network.name] = { id: network.id, ip: `172.18.0.${Object.keys(state.containers).length + 2}` };
}
