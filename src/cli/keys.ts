import type { Command } from 'commander';
import { toHex } from '../core/bytes.ts';
import { generateKeyPair, readKeyFile, writeKeyFile } from '../core/keys.ts';
import { type CliIo, emit } from './io.ts';

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
    .option('--json', 'print machine-readable JSON')
    .action((opts: { out: string; json?: boolean }) => {
      const key = generateKeyPair();
      writeKeyFile(opts.out, key);
      const info = { file: opts.out, publicKey: toHex(key.publicKey), peerId: key.peerId };
      emit(
        io,
        opts.json === true,
        info,
        () => `key file: ${info.file}\npublic key: ${info.publicKey}\npeer id: ${info.peerId}\n`,
      );
    });

  keys
    .command('show')
    .description('print the public key and peer id of a key file (never the secret)')
    .argument('<file>', 'key file')
    .option('--json', 'print machine-readable JSON')
    .action((file: string, opts: { json?: boolean }) => {
      const key = readKeyFile(file);
      const info = { file, publicKey: toHex(key.publicKey), peerId: key.peerId };
      emit(io, opts.json === true, info, () => `public key: ${info.publicKey}\npeer id: ${info.peerId}\n`);
    });
}
