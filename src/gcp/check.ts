import type { Config } from '../config.js';
import { asGitspacesError } from '../errors.js';
import type { LocatedVm, SecretSource, VmLocator } from '../setup/ports.js';
import { formatVmRef, parseVmRef } from '../setup/vm-ref.js';
import { splitFix } from './fail.js';

export interface CheckRow {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface GoogleCheckDeps {
  /** Reads every kind of reference (Secret Manager, `file:`, `env:`). */
  secrets: SecretSource;
  /** Best created with `hostKeyRetryDelaysMs: []`, so that a check asks guest attributes once. */
  vms: VmLocator | undefined;
  /** The VM given on the command line, if any (`vm`, `zone/vm` or `project/zone/vm`). */
  vm?: string | undefined;
  /** Checks of the VM once it is found (its SSH port, the bot's key there), in rows after its own. */
  vmChecks?: ((vm: LocatedVm) => Promise<CheckRow[]>) | undefined;
}

const SECRET_VARIABLES = [
  ['POOL_SECRET', 'pool'],
  ['DELEGATE_TOKEN_SECRET', 'delegateToken'],
  ['SSH_KEY_SECRET', 'sshKey'],
  ['RUNNER_SA_KEY_SECRET', 'runnerSaKey'],
] as const;

export function failedRow(check: string, thrown: unknown): CheckRow {
  const { problem, fix } = splitFix(asGitspacesError(thrown));
  return fix === undefined
    ? { check, ok: false, detail: problem }
    : { check, ok: false, detail: problem, fix };
}

async function checkSecret(variable: string, reference: string, secrets: SecretSource): Promise<CheckRow> {
  const check = `${variable} ${reference}`;
  try {
    const value = await secrets.read(reference);
    // The size only: even a prefix of a token or key must not reach a terminal.
    return {
      check,
      ok: value.length > 0,
      detail: value.length > 0 ? `readable (${value.length} bytes)` : 'readable but empty',
    };
  } catch (thrown) {
    return failedRow(check, thrown);
  }
}

async function checkVm(
  config: Config,
  text: string,
  vms: VmLocator | undefined,
): Promise<{ row: CheckRow; found?: LocatedVm }> {
  const check = `VM ${text}`;
  try {
    const ref = parseVmRef(text, { project: config.gcp.project, zone: config.gcp.zone });
    if (!vms) return { row: { check, ok: false, detail: 'no Compute API client is configured' } };
    const hostKeys = config.ssh.hostKeyPolicy === 'guest-attributes';
    const vm = await vms.locate(ref, { address: config.ssh.address, hostKeys });
    const keys = hostKeys
      ? `; ${vm.hostKeys.length} host key(s) published (${vm.hostKeys.map((k) => k.type).join(', ')})`
      : '';
    const detail = `${formatVmRef(vm)} is RUNNING at ${vm.address} (${config.ssh.address})${keys}`;
    return { row: { check, ok: true, detail }, found: vm };
  } catch (thrown) {
    return { row: failedRow(check, thrown) };
  }
}

/**
 * The Google side of `check-config`: whether each configured secret reference resolves (never its value),
 * and whether the VM given as an argument can be found with its address and host keys (then `vmChecks`).
 */
export async function checkGoogle(config: Config, deps: GoogleCheckDeps): Promise<CheckRow[]> {
  const secretChecks = SECRET_VARIABLES.flatMap(([variable, key]) => {
    const reference = config.secrets[key];
    return reference === undefined ? [] : [checkSecret(variable, reference, deps.secrets)];
  });
  const { vm, vmChecks } = deps;
  const vmRows = async (): Promise<CheckRow[]> => {
    if (vm === undefined) return [];
    const { row, found } = await checkVm(config, vm, deps.vms);
    return found === undefined || vmChecks === undefined ? [row] : [row, ...(await vmChecks(found))];
  };
  const [rows, more] = await Promise.all([Promise.all(secretChecks), vmRows()]);
  return [...rows, ...more];
}
