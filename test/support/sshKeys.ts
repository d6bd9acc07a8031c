import { utils } from 'ssh2';

type KeyOptions = { passphrase: string; cipher: string; rounds: number };

/**
 * An ed25519 key pair that ssh2 can read back. ssh2's own generator strips the leading zero bytes of
 * the public key, so about one key in 256 cannot be parsed (mscdex/ssh2#1390, #1513): a test that
 * used such a key would fail for a reason unrelated to what it checks. Those keys are drawn again.
 */
export function ed25519KeyPair(options?: KeyOptions): { private: string; public: string } {
  for (;;) {
    const pair = options ? utils.generateKeyPairSync('ed25519', options) : utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private, options?.passphrase) instanceof Error)) return pair;
  }
}
