import { isMap, isSeq, LineCounter, parseDocument, Scalar, type YAMLMap } from 'yaml';
import { GitspacesError } from '../errors.js';

/** Inside the runner container RUNNER_DIR is mounted at /runner (`-v <RUNNER_DIR>:/runner`). */
export const CONTAINER_DIR = '/runner';
export const SA_KEY_FILE = 'sa-key.json';

export interface PreparedPool {
  /** The pool file exactly as it will be written. */
  content: string;
  /** Pool names, for messages. */
  pools: readonly string[];
  /** True when json_path values were pointed at the service-account key written beside the pool file. */
  rewroteKeyPath: boolean;
}

function invalid(problems: string[]): GitspacesError {
  return new GitspacesError(
    'POOL_INVALID',
    `The pool file (POOL_SECRET) is not a valid drone-runner-aws pool file:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
}

/**
 * Validates pool.yaml as the runner will read it and, when a service-account key is supplied, points every
 * `spec.account.json_path` at the key's path inside the container. The Gitspaces terraform module writes the
 * path of the machine that ran terraform, which does not exist in the runner container.
 */
export function preparePool(text: string, options: { hasSaKey: boolean }): PreparedPool {
  // Every run of a fleet checks the same pool file, twice when it waits for approval: parse it once.
  const key = `${options.hasSaKey ? 'k' : '-'}${text}`;
  const known = prepared.get(key);
  if (known !== undefined) return known;
  const result = Object.freeze(parsePool(text, options));
  if (prepared.size >= PREPARED_KEPT) prepared.delete(prepared.keys().next().value as string);
  prepared.set(key, result);
  return result;
}

/** The last pool files found valid, by content (in this process's memory only, like the secret itself). */
const prepared = new Map<string, PreparedPool>();
const PREPARED_KEPT = 8;

function parsePool(text: string, options: { hasSaKey: boolean }): PreparedPool {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw invalid(
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return `YAML syntax error at line ${at.line}, column ${at.col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const root = doc.contents;
  if (!isMap(root)) throw invalid(['the file must be a YAML mapping with `version` and `instances`']);
  const problems: string[] = [];
  if (!root.has('version')) problems.push('`version` is missing (e.g. `version: "1"`)');
  const instances: unknown = root.get('instances');
  if (!isSeq(instances) || instances.items.length === 0) {
    problems.push('`instances` is missing or empty: list at least one pool');
    throw invalid(problems);
  }
  const pools: string[] = [];
  let rewrote = false;
  instances.items.forEach((item, index) => {
    const where = `instances[${index}]`;
    if (!isMap(item)) {
      problems.push(`${where} must be a mapping`);
      return;
    }
    const name: unknown = item.get('name');
    const label = typeof name === 'string' && name !== '' ? `${where} (${name})` : where;
    if (typeof name !== 'string' || name === '') problems.push(`${where} has no \`name\``);
    else pools.push(name);
    const type: unknown = item.get('type');
    if (type === undefined || type === null || type === '')
      problems.push(`${label} has no \`type\` (use google)`);
    else if (type !== 'google' && type !== 'gcp') {
      problems.push(
        `${label} has type \`${String(type)}\`: Gitspaces on Google Cloud needs \`google\` (or \`gcp\`)`,
      );
    }
    rewrote = checkKeyPath(item, label, options.hasSaKey, problems) || rewrote;
  });
  if (problems.length > 0) throw invalid(problems);
  return { content: rewrote ? doc.toString() : text, pools, rewroteKeyPath: rewrote };
}

function checkKeyPath(item: YAMLMap, label: string, hasSaKey: boolean, problems: string[]): boolean {
  const jsonPath: unknown = item.getIn(['spec', 'account', 'json_path']);
  if (jsonPath === undefined || jsonPath === null || jsonPath === '') return false; // Application Default Credentials
  if (typeof jsonPath !== 'string') {
    problems.push(`${label}: spec.account.json_path must be a path`);
    return false;
  }
  const wanted = `${CONTAINER_DIR}/${SA_KEY_FILE}`;
  if (hasSaKey) {
    // A new plain scalar: the old one's quoting would otherwise be kept around the new path.
    if (jsonPath !== wanted) item.setIn(['spec', 'account', 'json_path'], new Scalar(wanted));
    return jsonPath !== wanted;
  }
  if (!jsonPath.startsWith(`${CONTAINER_DIR}/`)) {
    problems.push(
      `${label}: spec.account.json_path is ${jsonPath}, which does not exist inside the runner container (only ${CONTAINER_DIR} is mounted). Set RUNNER_SA_KEY_SECRET to the service-account key so the bot writes it to ${wanted} and points json_path there, or remove json_path to use the VM's service account.`,
    );
  }
  return false;
}
