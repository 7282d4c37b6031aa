import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseVmRef } from '../../src/setup/vm-ref.js';

describe('VM references', () => {
  it('takes vm, zone/vm and project/zone/vm with defaults for the missing parts', () => {
    const defaults = { project: 'acme-prod', zone: 'us-central1-a' };
    expect(parseVmRef('runner-1', defaults)).toEqual({
      project: 'acme-prod',
      zone: 'us-central1-a',
      name: 'runner-1',
    });
    expect(parseVmRef('europe-west1-b/runner-1', defaults)).toEqual({
      project: 'acme-prod',
      zone: 'europe-west1-b',
      name: 'runner-1',
    });
    expect(parseVmRef('other-proj/europe-west1-b/r', defaults)).toEqual({
      project: 'other-proj',
      zone: 'europe-west1-b',
      name: 'r',
    });
  });

  it.each([
    '',
    'Runner',
    '1vm',
    'vm-',
    'vm_1',
    'vm;rm -rf /',
    '$(id)',
    'vm\nx',
    'ｖｍ',
    `a${'b'.repeat(63)}`,
    'a/b/c/d',
  ])('refuses %j with the naming rule', (text) => {
    expect(() => parseVmRef(text)).toThrow(/not a (valid VM name|VM reference|zone|project id)/);
  });

  it('accepts exactly the names that match the GCE rule', () => {
    const rule = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), (text) => {
        let ok = true;
        try {
          parseVmRef(text);
        } catch {
          ok = false;
        }
        expect(ok).toBe(rule.test(text.trim()) && !text.includes('/'));
      }),
    );
  });
});
