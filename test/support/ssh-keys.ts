/**
 * An ed25519 key pair from ssh2's generator that ssh2 itself can read back: a few in a thousand of the
 * private keys it writes are refused by its own parser ("Malformed OpenSSH private key"), so such a pair
 * is thrown away and another made.
 */
import ssh2 from 'ssh2';

export function ed25519KeyPair(): { private: string; public: string } {
  for (;;) {
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(keys.private) instanceof Error)) return keys;
  }
}
