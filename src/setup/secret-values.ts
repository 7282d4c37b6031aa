import { isMap, isScalar, isSeq, parseDocument } from 'yaml';

/**
 * The private parts of a service-account key, redacted one by one as well: a log may print the PEM key with
 * its newlines escaped (`\n`), which the whole JSON text would not match.
 */
export function saKeyFields(saKey: Buffer | undefined): string[] {
  if (!saKey) return [];
  try {
    const json = JSON.parse(saKey.toString('utf8')) as Record<string, unknown>;
    return ['private_key', 'private_key_id']
      .map((k) => json[k])
      .filter((v): v is string => typeof v === 'string');
  } catch {
    return [];
  }
}

/**
 * Keys of a pool file whose values are credentials. The pool file as a whole is not a secret (its machine
 * types and zones are fine to show), so only these values are redacted; drone-runner-aws pool files carry
 * account keys, client secrets and instance passwords under names like these.
 */
const CREDENTIAL_KEY = /(secret|password|passwd|token|private_key|access_key(_id)?|api_key|credentials?)$/i;

/** The credential values of a pool file (any depth), for the redactor. Nothing when it does not parse. */
export function poolSecretValues(poolText: string): string[] {
  const doc = parseDocument(poolText, { prettyErrors: false });
  if (doc.errors.length > 0) return [];
  const found: string[] = [];
  const visit = (node: unknown, key: string | undefined): void => {
    if (isMap(node)) {
      for (const pair of node.items)
        visit(pair.value, isScalar(pair.key) ? String(pair.key.value) : undefined);
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item, key);
    } else if (isScalar(node) && key !== undefined && CREDENTIAL_KEY.test(key)) {
      if (node.value !== null && node.value !== undefined) found.push(String(node.value));
    }
  };
  visit(doc.contents, undefined);
  return found;
}
