/**
 * `delegate=<image-or-tag>`: a bare tag (no `/`, no `:`) replaces the tag of the configured image, so
 * `26.11.87100` means `<configured repository>:26.11.87100`; anything else is a whole image reference.
 */
export function imageFor(configured: string, given: string | undefined): string {
  if (given === undefined || given === '') return configured;
  if (given.includes('/') || given.includes(':') || given.includes('@')) return given;
  const bare = configured.split('@')[0] ?? configured;
  const slash = bare.lastIndexOf('/');
  const colon = bare.lastIndexOf(':');
  const repository = colon > slash ? bare.slice(0, colon) : bare;
  return `${repository}:${given}`;
}
