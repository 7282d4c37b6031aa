/** Go values as text/template sees them, and the functions docker's templates may call. */

export class GoMap {
  /** @param {Record<string, unknown>} entries @param {unknown} zero what `index` gives for a missing key */
  constructor(entries = {}, zero = '') {
    this.entries = entries;
    this.zero = zero;
  }
  toJSON() {
    return Object.fromEntries(
      Object.keys(this.entries)
        .sort()
        .map((k) => [k, this.entries[k]]),
    );
  }
}

export class TemplateError extends Error {}

const NO_VALUE = '<no value>';

/** Go's `%v` of a value. */
export function goString(value) {
  if (value === undefined || value === null) return NO_VALUE;
  if (value instanceof GoMap)
    return `map[${Object.keys(value.entries)
      .sort()
      .map((k) => `${k}:${goString(value.entries[k])}`)
      .join(' ')}]`;
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (typeof value === 'object')
    return `{${Object.values(value)
      .map((v) => goString(v))
      .join(' ')}}`;
  return String(value);
}

export function truthy(value) {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof GoMap) return Object.keys(value.entries).length > 0;
  return true;
}

function printf(format, ...args) {
  let n = 0;
  return format.replace(/%([sdvqt%])/g, (_, verb) => {
    if (verb === '%') return '%';
    const arg = args[n++];
    return verb === 'q' ? JSON.stringify(String(arg)) : goString(arg);
  });
}

export const FUNCTIONS = {
  json: (v) => JSON.stringify(v instanceof GoMap ? v.toJSON() : (v ?? null)),
  index: (v, ...keys) =>
    keys.reduce((acc, key) => {
      if (acc instanceof GoMap) return Object.hasOwn(acc.entries, key) ? acc.entries[key] : acc.zero;
      if (Array.isArray(acc)) {
        if (key < 0 || key >= acc.length)
          throw new TemplateError(`error calling index: index out of range: ${key}`);
        return acc[key];
      }
      throw new TemplateError(`error calling index: can't index item of type ${typeof acc}`);
    }, v),
  join: (list, sep) => (list ?? []).map(goString).join(sep),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  title: (s) => String(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  split: (s, sep) => String(s).split(sep),
  len: (v) => (v instanceof GoMap ? Object.keys(v.entries).length : (v ?? []).length),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  not: (v) => !truthy(v),
  and: (...vs) => vs.find((v) => !truthy(v)) ?? vs.at(-1),
  or: (...vs) => vs.find((v) => truthy(v)) ?? vs.at(-1),
  print: (...vs) => vs.map(goString).join(''),
  println: (...vs) => `${vs.map(goString).join(' ')}\n`,
  printf,
};
