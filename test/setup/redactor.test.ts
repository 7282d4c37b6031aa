import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/setup/redactor.js';

const KEY = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDZ3vZ0fVqCzv3sQp2hX5kB4ym7b0r1Cq2Yx9YbQJk8dQAAAJgxkZ0lMZGd
-----END OPENSSH PRIVATE KEY-----
`;

describe('Redactor', () => {
  it('masks a token, its base64 and its base64url forms', () => {
    const token = 'tok_Zm9vYmFy+/secret==';
    const r = new Redactor().add(token);
    const text = `a ${token} b ${Buffer.from(token).toString('base64')} c ${Buffer.from(token).toString('base64url')}`;
    expect(r.redact(text)).toBe('a *** b *** c ***');
  });

  it('masks a private key whole and line by line', () => {
    const r = new Redactor().add(Buffer.from(KEY));
    expect(r.redact(`key:\n${KEY}`)).toBe('key:\n***');
    const oneLine = KEY.split('\n')[1] ?? '';
    expect(r.redact(`leaked ${oneLine} here`)).toBe('leaked *** here');
  });

  it('masks a secret with or without its trailing newline', () => {
    const r = new Redactor().add('abcdef123456\n');
    expect(r.redact('x abcdef123456 y')).toBe('x *** y');
  });

  it('masks credentials in URLs, which a container may log (a Gitspace clone URL)', () => {
    const r = new Redactor();
    expect(r.redact('git clone https://oauth2:ghp_s3cr3t@github.com/acme/app.git failed')).toBe(
      'git clone https://***@github.com/acme/app.git failed',
    );
    expect(r.redact('mail ops@example.com, see https://github.com/acme/app')).toBe(
      'mail ops@example.com, see https://github.com/acme/app',
    );
  });

  it('leaves ordinary text alone and ignores values too short to be secrets', () => {
    const r = new Redactor().add('abc').add(undefined);
    expect(r.redact('abc def')).toBe('abc def');
  });
});
