/**
 * Properties over any input (fast-check): the slash-command parser, VM references, the pool file validator
 * and shell quoting either refuse with a clear, coded message or produce exactly what was meant — for the
 * shell, an argv on the other side identical to the one given, checked with /bin/sh here and through the
 * test VM's real sshd.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GitspacesError } from '../../src/errors.js';
import { CONTAINER_DIR, preparePool, SA_KEY_FILE } from '../../src/setup/pool-file.js';
import type { RemoteHost } from '../../src/setup/ports.js';
import { command, quote } from '../../src/setup/shell.js';
import { formatVmRef, parseVmRef } from '../../src/setup/vm-ref.js';
import { parseCommand } from '../../src/slack/commands/parse-command.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { recordFigures } from '../support/fault-figures.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;
const PROJECT = /^(?:[a-z][-a-z0-9.]{0,62}:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const DEFAULTS = { project: 'acme-gitspaces', zone: 'us-central1-a' };
let checked = 0;

/** Any text, including the characters that matter here: separators, quotes, shell syntax, look-alikes. */
const hostileChar = fc.constantFrom(
  ...' \t\n\r,/;&|$`\'"\\(){}[]<>*?!#~%=\u00a0\u200b\u2010\u2013\u043c\u0131\uff11-_.:aAzZ09',
);
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: hostileChar, maxLength: 80 }),
);

const vmName = fc.stringMatching(NAME);
const zone = fc.stringMatching(ZONE).filter((z) => z.length < 40);
const project = fc.stringMatching(/^[a-z][-a-z0-9]{4,20}[a-z0-9]$/);

describe('VM references', () => {
  it('either refuses with VM_NAME_INVALID or returns parts that satisfy Google’s naming rules', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        checked += 1;
        try {
          const ref = parseVmRef(text, DEFAULTS);
          expect(ref.name).toMatch(NAME);
          expect(ref.zone).toMatch(ZONE);
          expect(ref.project).toMatch(PROJECT);
        } catch (error) {
          expect(error).toBeInstanceOf(GitspacesError);
          expect((error as GitspacesError).code).toBe('VM_NAME_INVALID');
          expect((error as GitspacesError).message).toMatch(/is not a|not a valid VM name/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back every valid vm, zone/vm and project/zone/vm exactly', () => {
    fc.assert(
      fc.property(vmName, fc.option(zone), fc.option(project), (name, z, p) => {
        checked += 1;
        const text = [p !== null && z !== null ? p : undefined, z ?? undefined, name]
          .filter((part) => part !== undefined)
          .join('/');
        const ref = parseVmRef(text);
        expect(formatVmRef(ref)).toBe(text);
        expect(ref.name).toBe(name);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the slash-command parser', () => {
  it('never throws, and anything it would act on names only valid VMs', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileText,
          hostileText.map((t) => `setup ${t}`),
          hostileText.map((t) => `plan ${t}`),
        ),
        (text) => {
          checked += 1;
          const parsed = parseCommand(text, DEFAULTS);
          const vms =
            parsed.kind === 'setup'
              ? parsed.vms
              : parsed.kind === 'plan' || parsed.kind === 'cancel'
                ? [parsed.vm]
                : parsed.kind === 'status' && parsed.vm !== undefined
                  ? [parsed.vm]
                  : [];
          for (const vm of vms) {
            expect(vm.name).toMatch(NAME);
            expect(vm.zone).toMatch(ZONE);
            expect(vm.project).toMatch(PROJECT);
          }
          if (parsed.kind === 'invalid') expect(parsed.problem.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('starts exactly the VMs listed, whatever Slack put between them, and nothing if one is bad', () => {
    const separator = fc.constantFrom(' ', '  ', ',', ', ', '\u00a0', '&nbsp;', '\t', '\n');
    const refused = (word: string) => {
      try {
        parseVmRef(word, DEFAULTS);
        return false;
      } catch {
        return true;
      }
    };
    const badWord = hostileText.filter((t) => t.trim() !== '' && !/[\s,\u00a0]|&nbsp;/.test(t) && refused(t));
    fc.assert(
      fc.property(
        fc.array(vmName, { minLength: 1, maxLength: 6 }),
        separator,
        fc.option(fc.tuple(badWord, fc.nat())),
        (names, sep, bad) => {
          checked += 1;
          const words = [...names];
          if (bad !== null) words.splice(bad[1] % (words.length + 1), 0, bad[0]);
          const parsed = parseCommand(`setup${sep}${words.join(sep)}`, DEFAULTS);
          if (bad !== null) {
            expect(parsed.kind).toBe('invalid');
            expect((parsed as { problem: string }).problem).toContain('Nothing was started');
            return;
          }
          expect(parsed.kind).toBe('setup');
          expect((parsed as { vms: Array<{ name: string }> }).vms.map((v) => v.name)).toEqual([
            ...new Set(names),
          ]);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('the pool file validator', () => {
  it('never fails with anything but POOL_INVALID on any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), hostileText), (text) => {
        checked += 1;
        try {
          const pool = preparePool(text, { hasSaKey: false });
          expect(pool.pools.length).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(GitspacesError);
          expect((error as GitspacesError).code).toBe('POOL_INVALID');
        }
      }),
      { numRuns: 1000 },
    );
  });

  const instance = fc.record(
    {
      name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.constant(''), hostileText),
      type: fc.constantFrom('google', 'gcp', 'amazon', '', 'GOOGLE'),
      pool: fc.integer({ min: 0, max: 5 }),
      spec: fc.record(
        {
          account: fc.record(
            {
              project_id: project,
              json_path: fc.oneof(
                fc.constant(`${CONTAINER_DIR}/key.json`),
                fc.constant('/home/me/terraform/sa.json'),
                hostileText,
              ),
            },
            { requiredKeys: ['project_id'] },
          ),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['pool'] },
  );

  it('accepts a pool exactly when every instance is named and of type google, and says what is wrong otherwise', () => {
    fc.assert(
      fc.property(fc.array(instance, { minLength: 1, maxLength: 4 }), fc.boolean(), (instances, hasSaKey) => {
        checked += 1;
        const text = stringify({ version: '1', instances });
        const named = instances.every((i) => typeof i.name === 'string' && i.name !== '');
        const typed = instances.every((i) => i.type === 'google' || i.type === 'gcp');
        const paths = instances
          .map((i) => i.spec?.account?.json_path)
          .filter((p): p is string => p !== undefined && p !== '');
        const reachable = hasSaKey || paths.every((p) => p.startsWith(`${CONTAINER_DIR}/`));
        try {
          const pool = preparePool(text, { hasSaKey });
          expect(named && typed && reachable).toBe(true);
          expect(pool.pools).toEqual(instances.map((i) => i.name));
          if (hasSaKey && paths.length > 0) {
            // Every key path now points at the key the bot writes beside the pool file.
            const wanted = `${CONTAINER_DIR}/${SA_KEY_FILE}`;
            // An empty json_path means Application Default Credentials and is left as it is.
            const rewritten = [...pool.content.matchAll(/json_path: *(.*)/g)]
              .map((m) => m[1])
              .filter((p) => p !== '""' && p !== "''" && p !== '');
            expect(rewritten.length).toBeGreaterThan(0);
            expect(rewritten.every((p) => p === wanted)).toBe(true);
          }
        } catch (error) {
          expect((error as GitspacesError).code).toBe('POOL_INVALID');
          expect(named && typed && reachable).toBe(false);
          const message = (error as Error).message;
          if (!named) expect(message).toContain('has no `name`');
          if (!typed) expect(message).toMatch(/has no `type`|needs `google`/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** No lone surrogate: text that has a UTF-8 form, as every argv on a real system has. */
const wellFormed = (s: string) => !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));

/** Printing each argument with a NUL after it shows exactly the argv the shell built. */
const PRINTER = ['printf', '%s\\0'];
const printed = (out: string | Buffer) => {
  const text = Buffer.isBuffer(out) ? out.toString('utf8') : out;
  return text.split('\0').slice(0, -1);
};
const arg = fc
  .oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: hostileChar, maxLength: 40 }))
  .filter((s) => !s.includes('\0') && wellFormed(s));
const argv = fc.array(arg, { minLength: 1, maxLength: 6 });

describe('shell quoting', () => {
  it('gives /bin/sh exactly the argv it was given, for any argv', () => {
    fc.assert(
      fc.property(argv, (args) => {
        checked += 1;
        const out = execFileSync('/bin/sh', ['-c', command(...PRINTER, ...args)]);
        expect(printed(out)).toEqual(args);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a NUL byte instead of cutting the argument short', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        checked += 1;
        expect(() => quote(`${a}\0${b}`)).toThrow(/NUL/);
      }),
    );
  });

  describe('through the test VM’s sshd', () => {
    let sshd: TestSshd;
    let remote: RemoteHost;
    beforeAll(async () => {
      sshd = await startSshd();
      remote = (
        await connectSsh({
          host: sshd.host,
          port: sshd.port,
          user: sshd.user,
          privateKey: sshd.privateKey,
          pin: pinKeys(sshd.hostKeys, 'the test sshd'),
        })
      ).remote;
    });
    afterAll(async () => {
      await remote?.close();
      await sshd?.stop();
      await recordFigures('properties', { inputsChecked: checked });
    });

    it('gives the login shell on the VM exactly the argv it was given', async () => {
      await fc.assert(
        fc.asyncProperty(argv, async (args) => {
          checked += 1;
          const result = await remote.exec(command(...PRINTER, ...args));
          expect(result.code).toBe(0);
          expect(printed(result.stdout)).toEqual(args);
        }),
        { numRuns: 60 },
      );
    });

    it('runs the Docker stand-in with exactly the argv it was given', async () => {
      await fc.assert(
        fc.asyncProperty(argv, async (args) => {
          checked += 1;
          const before = sshd.calls().length;
          await remote.exec(command('docker', 'network', 'inspect', ...args));
          expect(sshd.calls().slice(before)).toEqual([['network', 'inspect', ...args]]);
        }),
        { numRuns: 30 },
      );
    });
  });
});
