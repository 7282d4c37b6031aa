import { GitspacesError } from '../errors.js';
import type { VmRef } from './ports.js';

/** GCE's rule for instance names: https://cloud.google.com/compute/docs/naming-resources */
const VM_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Project ids: 6-30 chars, lowercase letters, digits, hyphens, starting with a letter. Legacy domain-scoped ids have `:`. */
const PROJECT = /^(?:[a-z][-a-z0-9.]{0,62}:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;

export function isVmName(text: string): boolean {
  return VM_NAME.test(text);
}

function describe(text: string): string {
  const shown = [...text].slice(0, 40).join('');
  return JSON.stringify(shown.length < text.length ? `${shown}…` : shown);
}

/**
 * Parses `vm`, `zone/vm` or `project/zone/vm`. Every part is checked against Google's naming rules, so a
 * name that passes is safe anywhere (shell, Redis key, job id).
 */
export function parseVmRef(
  text: string,
  defaults: { project?: string | undefined; zone?: string | undefined } = {},
): VmRef {
  const parts = text.trim().split('/');
  if (text.trim() === '' || parts.length > 3) {
    throw new GitspacesError(
      'VM_NAME_INVALID',
      `${describe(text)} is not a VM reference. Use a VM name (e.g. gitspaces-runner), zone/vm or project/zone/vm.`,
    );
  }
  const name = parts[parts.length - 1] ?? '';
  const zone = parts.length >= 2 ? parts[parts.length - 2] : defaults.zone;
  const project = parts.length === 3 ? parts[0] : defaults.project;
  if (!VM_NAME.test(name)) {
    throw new GitspacesError(
      'VM_NAME_INVALID',
      `${describe(name)} is not a valid VM name: Google Compute Engine names are 1-63 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.`,
    );
  }
  if (zone !== undefined && !ZONE.test(zone)) {
    throw new GitspacesError('VM_NAME_INVALID', `${describe(zone)} is not a zone (e.g. us-central1-a).`);
  }
  if (project !== undefined && !PROJECT.test(project)) {
    throw new GitspacesError(
      'VM_NAME_INVALID',
      `${describe(project)} is not a project id (6-30 lowercase letters, digits and hyphens, starting with a letter).`,
    );
  }
  return { project, zone, name };
}

/** `project/zone/vm` with the parts that are known. */
export function formatVmRef(ref: VmRef): string {
  return [ref.project, ref.zone, ref.name].filter((p) => p !== undefined).join('/');
}
