/**
 * How old a delegate image is, from its tag. Harness tags delegate images `YY.MM.build` and supports one
 * for 6 months after its release, ending its life at 8 (developer docs, "Delegate upgrades and expiration").
 * Pure: the caller passes the time, so tests fix the clock.
 */
export const SUPPORT_MONTHS = 6;
export const LIFE_MONTHS = 8;

export interface DelegateTag {
  tag: string;
  year: number;
  month: number;
}

/** The tag of an image reference (`repo/path:tag`, a digest left aside), or '' when it has none. */
export function imageTag(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(colon + 1) : '';
}

export function parseDelegateTag(image: string): DelegateTag | undefined {
  const tag = imageTag(image);
  const found = /^(\d{2})\.(\d{2})\.\d+(?:[.-][A-Za-z0-9._-]*)?$/.exec(tag);
  if (!found?.[1] || !found[2]) return undefined;
  const month = Number(found[2]);
  if (month < 1 || month > 12) return undefined;
  return { tag, year: 2000 + Number(found[1]), month };
}

/** Whole calendar months from the tag's month to `now`'s (UTC); undefined when the tag is not `YY.MM.build`. */
export function delegateAgeMonths(image: string, now: number): number | undefined {
  const tag = parseDelegateTag(image);
  if (!tag) return undefined;
  const today = new Date(now);
  return today.getUTCFullYear() * 12 + today.getUTCMonth() - (tag.year * 12 + tag.month - 1);
}

const months = (n: number) => (n <= 0 ? 'less than a month' : n === 1 ? '1 month' : `${n} months`);

/** "25.03.85504, 21 months old" for the old → new lines; "age unknown" for a tag that is not `YY.MM.build`. */
export function ageNote(image: string, now: number): string {
  const age = delegateAgeMonths(image, now);
  if (age === undefined) return 'age unknown';
  return `${months(age)} old`;
}

export interface AgeAdvice {
  /** One sentence for status, plan, the approval request and check-config. */
  text: string;
  /** Past the support window: worth a warning. */
  stale: boolean;
  /** The latest supported tag, when Harness told it and it is not the one running. */
  latest?: string;
}

/**
 * "delegate 25.03.85504 is 21 months old: Harness ends support at 6 months and the image's life at 8 —
 * `/gitspaces upgrade vm delegate=<tag>`", with the latest supported tag when Harness told it.
 */
export function delegateAdvice(image: string, now: number, vm: string, latest?: string): AgeAdvice {
  const age = delegateAgeMonths(image, now);
  const tag = imageTag(image) || image;
  if (age === undefined)
    return { text: `delegate ${tag}: age unknown (the tag is not YY.MM.build)`, stale: false };
  const stale = age >= SUPPORT_MONTHS;
  const head = `delegate ${tag} is ${months(age)} old: Harness ends support at ${SUPPORT_MONTHS} months and the image's life at ${LIFE_MONTHS}`;
  if (!stale) return { text: head, stale };
  const offer = latest && latest !== tag ? latest : '<tag>';
  const how =
    latest === undefined
      ? ' (the latest supported tag is in Harness under Account Settings → Delegates → Delegate version, or set HARNESS_API_KEY_SECRET and the bot asks Harness)'
      : '';
  const advice = { text: `${head} — \`/gitspaces upgrade ${vm} delegate=${offer}\`${how}`, stale };
  return offer === '<tag>' ? advice : { ...advice, latest: offer };
}
