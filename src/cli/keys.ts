import type { Command } from 'commander';
import { toHex } from '../core/bytes.ts';
import { CRYPTO_SUITES, type SuiteName } from '../core/crypto-suite.ts';
import { generateKeyPair, type KeyPair, loadKeyFile, readKeyFile, writeKeyFile } from '../core/keys.ts';
import { registerEncryptionKeyCommands } from './case-sync.ts';
import { type CliIo, emit, UsageError } from './io.ts';
import { newPassphrase, passphraseIfEncrypted } from './passphrase.ts';

/** The --crypto-suite value, checked: the suite of the chain a key is for (ADR 014). */
export function suiteOption(value: string | undefined): SuiteName {
  const name = value ?? 'ed25519-sha256';
  if (!Object.hasOwn(CRYPTO_SUITES, name))
    throw new UsageError(`--crypto-suite must be one of: ${Object.keys(CRYPTO_SUITES).join(', ')}`);
  return name as SuiteName;
}

/** What `keys generate|show` print: the public parts, and the peer key when it is not the signing key. */
function keyInfo(file: string, key: KeyPair): Record<string, string> {
  return {
    file,
    type: key.suite === 'sm2-sm3' ? 'sm2' : 'ed25519',
    publicKey: toHex(key.publicKey),
    ...(key.suite === 'sm2-sm3' ? { peerKey: toHex(key.peerKey) } : {}),
    peerId: key.peerId,
  };
}

function keyText(info: Record<string, string>): string {
  const peerKey = info.peerKey === undefined ? '' : `peer key: ${info.peerKey}\n`;
  return `public key: ${info.publicKey}\n${peerKey}peer id: ${info.peerId}\n`;
}

export function registerKeysCommands(program: Command, io: CliIo): void {
  const keys = program
    .command('keys')
    .description('create and inspect key files (Ed25519, or SM2 for sm2-sm3 chains)');

  keys
    .command('generate')
    .description(
      'create a new Ed25519 key file (mode 0600) and print its public key and libp2p peer id.\n' +
        'The same key type serves validators (signing votes; the peer id is its network identity) and\n' +
        'institution clients (signing evidence transactions). Existing files are never overwritten.\n' +
        'With --crypto-suite sm2-sm3 the file holds an SM2 signing key and an Ed25519 libp2p peer key\n' +
        '(docs/encoding.md, "Key files").',
    )
    .requiredOption('--out <file>', 'path of the key file to create')
    .option('--crypto-suite <suite>', "the chain's suite: ed25519-sha256 (default) or sm2-sm3")
    .option('--encrypt', 'encrypt it with a passphrase (JRCHAIN_KEY_PASSPHRASE, else a prompt)')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { out: string; cryptoSuite?: string; encrypt?: boolean; json?: boolean }) => {
      const key = generateKeyPair(suiteOption(opts.cryptoSuite));
      writeKeyFile(opts.out, key, opts.encrypt ? { passphrase: await newPassphrase() } : {});
      const info = keyInfo(opts.out, key);
      emit(io, opts.json === true, info, () => `key file: ${info.file}\n${keyText(info)}`);
    });

  registerEncryptionKeyCommands(keys, io);

  keys
    .command('show')
    .description('print the public key and peer id of a key file (never the secret)')
    .argument('<file>', 'key file')
    .option('--json', 'print machine-readable JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const passphrase = await passphraseIfEncrypted(file);
      const key = readKeyFile(file, { suite: 'any', ...(passphrase !== undefined ? { passphrase } : {}) });
      const info = keyInfo(file, key);
      emit(io, opts.json === true, info, () => keyText(info));
    });

  keys
    .command('encrypt')
    .description(
      'encrypt a plain key file in place with a passphrase (scrypt + AES-256-GCM, docs/security.md).\n' +
        'The passphrase comes from JRCHAIN_KEY_PASSPHRASE, else a prompt on a terminal.',
    )
    .argument('<file>', 'key file')
    .action(async (file: string) => {
      const { key, encrypted } = loadKeyFile(file, { suite: 'any' });
      if (encrypted) throw new UsageError(`${file} is already encrypted`);
      writeKeyFile(file, key, { passphrase: await newPassphrase(), replace: true });
      io.out(`encrypted ${file}\n`);
    });

  keys
    .command('decrypt')
    .description('decrypt an encrypted key file in place (back to plain JSON, mode 0600)')
    .argument('<file>', 'key file')
    .action(async (file: string) => {
      const { key, encrypted } = loadKeyFile(file, {
        suite: 'any',
        passphrase: await passphraseIfEncrypted(file),
      });
      if (!encrypted) throw new UsageError(`${file} is not encrypted`);
      writeKeyFile(file, key, { replace: true });
      io.out(`decrypted ${file}\n`);
    });
}
