import type { Config } from '../../config.js';
import { isGitspacesError } from '../../errors.js';
import type { RunTarget } from '../../queue/types.js';
import { checkDelegateName, checkTags, delegateNameFor } from '../../setup/settings.js';
import { parseVmRef } from '../../setup/vm-ref.js';
import type { ModalField } from '../blocks/setup-modal.js';

export type SetupForm = Record<ModalField, string>;

export type CheckedForm =
  | { ok: true; target: RunTarget; delegateName: string | undefined; tags: string | undefined }
  | { ok: false; errors: Partial<Record<ModalField, string>> };

type FormConfig = Pick<Config, 'gcp' | 'delegateName' | 'delegateTags'>;

function problem(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (isGitspacesError(error)) return error.message;
    throw error;
  }
}

/**
 * Checks the setup modal field by field, so each problem comes back under its own field
 * (`response_action: 'errors'`). Pure: the same rules as the command line (vm-ref, settings).
 */
export function validateSetupForm(form: SetupForm, config: FormConfig): CheckedForm {
  const errors: Partial<Record<ModalField, string>> = {};
  const vm = form.vm.trim();
  const zone = form.zone.trim() || config.gcp.zone;
  const project = form.project.trim() || config.gcp.project;
  if (vm.includes('/')) errors.vm = 'Enter the VM name only; the project and zone have their own fields.';
  else {
    const bad = problem(() => parseVmRef(vm));
    if (bad !== undefined) errors.vm = bad;
  }
  // A valid stand-in name, so a zone or project problem is reported on its own field.
  const probeName = errors.vm === undefined ? vm : 'vm';
  if (form.zone.trim() !== '') {
    const bad = problem(() => parseVmRef(`${form.zone.trim()}/${probeName}`));
    if (bad !== undefined) errors.zone = bad;
  }
  if (form.project.trim() !== '') {
    const bad = problem(() => parseVmRef(`${form.project.trim()}/us-central1-a/${probeName}`));
    if (bad !== undefined) errors.project = bad;
    else if (zone === undefined) errors.zone = 'A zone is needed with a project (GCP_ZONE is not set).';
  }
  const template = form.delegate_name.trim() || config.delegateName;
  const nameProblem = checkDelegateName(delegateNameFor(template, probeName));
  if (nameProblem !== undefined) errors.delegate_name = nameProblem;
  const tags = form.tags.trim();
  const tagsProblem = checkTags(tags);
  if (tagsProblem !== undefined) errors.tags = tagsProblem;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    target: { vm, project, zone },
    delegateName: template === config.delegateName ? undefined : template,
    tags: tags === config.delegateTags ? undefined : tags,
  };
}
