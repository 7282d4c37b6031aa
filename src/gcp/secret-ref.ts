import { isSecretManagerRef } from '../secrets/index.js';
import { gcpError } from './fail.js';

export interface SecretRef {
  project: string;
  secret: string;
  version: string;
  /** `projects/P/secrets/S/versions/V`, as Secret Manager names the version. */
  name: string;
}

// https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create (secretId)
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
// A version number, `latest`, or a version alias.
const VERSION = /^[A-Za-z0-9_-]{1,63}$/;
// A project id, a legacy domain-scoped id (`example.com:proj`) or a project number.
const PROJECT = /^(?:[a-z0-9][-a-z0-9.]*:)?[a-z0-9][-a-z0-9]*$/;
const FULL = /^projects\/([^/]+)\/secrets\/([^/]+)(?:\/versions\/([^/]+))?$/;

function shown(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function invalid(ref: string, why: string) {
  return gcpError(
    'SECRET_INVALID_REF',
    `${shown(ref)} is not a Secret Manager reference: ${why}.`,
    'Use name, name@version, projects/PROJECT/secrets/NAME or projects/PROJECT/secrets/NAME/versions/VERSION.',
  );
}

/** Parses `name`, `name@version`, `projects/P/secrets/S` or `projects/P/secrets/S/versions/V`. */
export function parseSecretRef(ref: string, defaultProject: string | undefined): SecretRef {
  const text = ref.trim();
  let project: string | undefined;
  let secret: string | undefined;
  let version: string | undefined;
  const full = FULL.exec(text);
  if (full) {
    [, project, secret, version] = full;
  } else if (text.startsWith('projects/')) {
    throw invalid(ref, 'a full name has the form projects/PROJECT/secrets/NAME[/versions/VERSION]');
  } else if (!isSecretManagerRef(text)) {
    throw invalid(
      ref,
      'file: and env: references are read from the file or the environment, not Secret Manager',
    );
  } else {
    const at = text.indexOf('@');
    secret = at === -1 ? text : text.slice(0, at);
    version = at === -1 ? undefined : text.slice(at + 1);
    project = defaultProject;
    if (project === undefined && SECRET_ID.test(secret)) {
      throw gcpError(
        'SECRET_INVALID_REF',
        `The secret ${shown(ref)} names no project and GCP_PROJECT is not set.`,
        `Set GCP_PROJECT, or write the reference as projects/PROJECT/secrets/${secret}.`,
      );
    }
  }
  version ??= 'latest';
  if (secret === undefined || !SECRET_ID.test(secret)) {
    throw invalid(ref, 'a secret name is 1-255 letters, digits, - or _');
  }
  if (!VERSION.test(version)) throw invalid(ref, 'a version is a number, latest, or an alias');
  if (project === undefined || !PROJECT.test(project))
    throw invalid(ref, `${shown(project ?? '')} is not a project`);
  return { project, secret, version, name: `projects/${project}/secrets/${secret}/versions/${version}` };
}
