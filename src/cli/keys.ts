import type { Command } from 'commander';
import { toHex } from '../core/bytes.ts';
import { generateKeyPair, loadKeyFile, readKeyFile, writeKeyFile } from '../core/keys.ts';
import { registerEncryptionKeyCommands } from './case-sync.ts';
import { type CliIo, emit, UsageError } from './io.ts';
import { newPassphrase, passphraseIfEncrypted } from './passphrase.ts';

export function registerKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('create and inspect Ed25519 key files');

  keys
    .command('generate')
    .description(
      'create a new Ed25519 key file (mode 0600) and print its public key and libp2p peer id.\n' +
        'The same key type serves validators (signing votes; the peer id is its network identity) and\n' +
        'institution clients (signing evidence transactions). Existing files are never overwritten.',
    )
    .requiredOption('--out <file>', 'path of the key file to create')
    .option('--encrypt', 'encrypt it with a passphrase (JRCHAIN_KEY_PASSPHRASE, else a prompt)')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { out: string; encrypt?: boolean; json?: boolean }) => {
      const key = generateKeyPair();
      writeKeyFile(opts.out, key, opts.encrypt ? { passphrase: await newPassphrase() } : {});
      const info = { file: opts.out, publicKey: toHex(key.publicKey), peerId: key.peerId };
      emit(
        io,
        opts.json === true,
        info,
        () => `key file: ${info.file}\npublic key: ${info.publicKey}\npeer id: ${info.peerId}\n`,
      );
    });

  registerEncryptionKeyCommands(keys, io);

  keys
    .command('show')
    .description('print the public key and peer id of a key file (never the secret)')
    .argument('<file>', 'key file')
    .option('--json', 'print machine-readable JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const passphrase = await passphraseIfEncrypted(file);
      const key = readKeyFile(file, passphrase !== undefined ? { passphrase } : {});
      const info = { file, publicKey: toHex(key.publicKey), peerId: key.peerId };
      emit(io, opts.json === true, info, () => `public key: ${info.publicKey}\npeer id: ${info.peerId}\n`);
    });

  keys
    .command('encrypt')
    .description(
      'encrypt a plain key file in place with a passphrase (scrypt + AES-256-GCM, docs/security.md).\n' +
        'The passphrase comes from JRCHAIN_KEY_PASSPHRASE, else a prompt on a terminal.',
    )
    .argument('<file>', 'key file')
    .action(async (file: string) => {
      const { key, encrypted } = loadKeyFile(file);
      if (encrypted) throw new UsageError(`${file} is already encrypted`);
      writeKeyFile(file, key, { passphrase: await newPassphrase(), replace: true });
      io.out(`encrypted ${file}\n`);
    });

  keys
    .command('decrypt')
    .description('decrypt an encrypted key file in place (back to plain JSON, mode 0600)')
    .argument('<file>', 'key file')
    .action(async (file: string) => {
      const { key, encrypted } = loadKeyFile(file, { passphrase: await passphraseIfEncrypted(file) });
      if (!encrypted) throw new UsageError(`${file} is not encrypted`);
      writeKeyFile(file, key, { replace: true });
      io.out(`decrypted ${file}\n`);
    });
}
