import { GitspacesError } from '../errors.js';
import { deadlineText, failedCall, triesText } from './call-policy.js';
import { gcpError } from './fail.js';

export interface VmCoordinates {
  project: string;
  zone: string;
  name: string;
}

export type ComputePermission =
  | 'compute.instances.get'
  | 'compute.instances.getGuestAttributes'
  | 'compute.projects.get'
  | 'compute.instances.setMetadata'
  | 'compute.zoneOperations.get';

const REACH = 'check network access to compute.googleapis.com (or COMPUTE_API_URL)';

/** A failed Compute API call as a message naming the VM, the project and (for 403) the missing permission. */
export function computeFailure(
  thrown: unknown,
  permission: ComputePermission,
  vm: VmCoordinates,
): GitspacesError {
  if (thrown instanceof GitspacesError) return thrown;
  const call = failedCall(thrown);
  const { failure } = call;
  const where = `VM ${vm.name} (project ${vm.project}, zone ${vm.zone})`;
  const tries = triesText(call);
  const options = { cause: thrown, detail: `Google said: ${failure.message}` };
  switch (failure.status) {
    case 'NOT_FOUND':
      return gcpError(
        'VM_NOT_FOUND',
        `There is no VM named ${vm.name} in project ${vm.project}, zone ${vm.zone}.`,
        'Check the name, GCP_PROJECT and GCP_ZONE, or give the VM as zone/vm or project/zone/vm.',
        options,
      );
    case 'PERMISSION_DENIED':
      return gcpError(
        'GCP_PERMISSION_DENIED',
        `The bot's Google identity lacks the permission ${permission} on project ${vm.project} (needed for ${where}).`,
        `Grant its service account a role with ${permission} on project ${vm.project}.`,
        options,
      );
    case 'UNAUTHENTICATED':
      return gcpError(
        'GCP_PERMISSION_DENIED',
        `Google did not accept the bot's credentials while reading ${where}.`,
        'Give the bot Application Default Credentials: a service account attached to its machine, GOOGLE_APPLICATION_CREDENTIALS, or `gcloud auth application-default login`.',
        options,
      );
    case 'RESOURCE_EXHAUSTED':
      return gcpError(
        'GCP_QUOTA',
        `The Compute API quota or rate limit of project ${vm.project} was reached while reading ${where}${tries}.`,
        `The run is retried later; if this keeps happening, raise the Compute API quota of project ${vm.project} (Google Cloud console, IAM & Admin, Quotas) or run fewer setups at once.`,
        { ...options, retryable: true },
      );
    case 'DEADLINE_EXCEEDED':
      return gcpError(
        'GCP_UNAVAILABLE',
        `The Compute API did not answer ${deadlineText(call)} while reading ${where}.`,
        `Try again; if it persists, ${REACH}.`,
        { ...options, retryable: true },
      );
    case 'UNAVAILABLE':
      return gcpError(
        'GCP_UNAVAILABLE',
        failure.network
          ? `The Compute API could not be reached while reading ${where} (${failure.message})${tries}.`
          : `The Compute API is unavailable (HTTP ${failure.httpStatus ?? '5xx'}) while reading ${where}${tries}.`,
        `Try again later; if it persists, ${REACH}, and https://status.cloud.google.com.`,
        { ...options, retryable: true },
      );
    case 'UNKNOWN':
      return gcpError(
        'GCP_UNAVAILABLE',
        `The Compute API failed while reading ${where}: ${failure.message}`,
        `Try again; if it persists, ${REACH}.`,
        { ...options, retryable: true },
      );
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
      return gcpError(
        'GCP_UNAVAILABLE',
        `Google refused the request for ${where}: ${failure.message}`,
        'Check the project and zone names.',
        options,
      );
  }
}
