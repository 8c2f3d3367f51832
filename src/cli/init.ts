/**
 * `jrchain init`: prepares an institution's node home (src/node/home.ts): a validator key (also its libp2p
 * identity), a client key for signing evidence, the public member description to send to the alliance, and a
 * node config.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { isInstitutionRole, ROLE_NAMES } from '../core/roles.ts';
import { ENCRYPTION_KEY_FILE } from '../node/case-keys.ts';
import { allowObserver, HOME_FILES, initHome } from '../node/home.ts';
import { type CliIo, emit, parsePositiveInt, UsageError } from './io.ts';
import { suiteOption } from './keys.ts';
import { newPassphrase } from './passphrase.ts';

export function registerInitCommand(program: Command, io: CliIo): void {
  program
    .command('init')
    .description(
      "prepare an institution's node home: validator key (its network identity), client key (signs evidence),\n" +
        'member.json (public; send it to whoever assembles the genesis) and config.json. Keys are mode 0600.',
    )
    .requiredOption('--home <dir>', 'node home directory (created)')
    .requiredOption('--institution <id>', 'institution id, e.g. bank-a')
    .option('--name <name>', 'display name of the institution')
    .option('--host <ip>', 'address peers reach this validator at', '127.0.0.1')
    .option('--p2p-port <port>', 'validator p2p port', parsePositiveInt, 7100)
    .option('--api-port <port>', 'HTTP API port (bound to loopback)', parsePositiveInt, 8100)
    .option('--tsa-url <url>', 'RFC 3161 TSA used to anchor blocks')
    .option('--role <role>', `institution role: ${ROLE_NAMES.join(', ')} (default: bank; docs/cases.md)`)
    .option(
      '--observer',
      'a full node that is no validator (a court or regulator): member.json names no validator key; each\n' +
        'validator runs the printed `jrchain observer allow` line so that it may connect',
    )
    .option(
      '--encrypt-keys',
      'encrypt both key files with a passphrase (JRCHAIN_KEY_PASSPHRASE, else a prompt; docs/security.md)',
    )
    .option(
      '--crypto-suite <suite>',
      "the chain's suite: ed25519-sha256 (default) or sm2-sm3 (SM2 keys, each with an Ed25519 peer key)",
    )
    .option('--json', 'print machine-readable JSON')
    .action(
      async (opts: {
        home: string;
        institution: string;
        name?: string;
        host: string;
        p2pPort: number;
        apiPort: number;
        tsaUrl?: string;
        role?: string;
        observer?: boolean;
        encryptKeys?: boolean;
        cryptoSuite?: string;
        json?: boolean;
      }) => {
        const cryptoSuite = suiteOption(opts.cryptoSuite);
        if (opts.role !== undefined && !isInstitutionRole(opts.role))
          throw new UsageError(`--role must be one of: ${ROLE_NAMES.join(', ')}`);
        const r = initHome({
          ...(opts.role !== undefined ? { role: opts.role } : {}),
          ...(opts.observer ? { observer: true } : {}),
          ...(opts.encryptKeys ? { passphrase: await newPassphrase() } : {}),
          cryptoSuite,
          home: opts.home,
          institution: opts.institution,
          host: opts.host,
          p2pPort: opts.p2pPort,
          apiPort: opts.apiPort,
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.tsaUrl !== undefined ? { tsaUrl: opts.tsaUrl } : {}),
        });
        emit(io, opts.json === true, r, () =>
          [
            `initialised ${r.home} for ${r.institution}`,
            opts.observer
              ? `  node key:      ${join(r.home, HOME_FILES.validatorKey)} (observer peer id ${r.peerId})`
              : `  validator key: ${join(r.home, HOME_FILES.validatorKey)} (peer id ${r.peerId})`,
            `  client key:    ${join(r.home, HOME_FILES.clientKey)}`,
            `  encryption key: ${join(r.home, ENCRYPTION_KEY_FILE)} (X25519, for sealed cases; in the member file)`,
            `  member file:   ${r.memberFile}`,
            `  config:        ${r.configFile}`,
            'next: send member.json to the alliance; put the genesis they assemble at',
            `  ${join(r.home, 'genesis.json')}, then run: jrchain start --home ${r.home}`,
            ...(opts.observer
              ? [
                  'each validator admits this observer with (then restarts its node):',
                  `  jrchain observer allow --home <validator home> ${r.peerId}`,
                ]
              : []),
            '',
          ].join('\n'),
        );
      },
    );
}

export function registerObserverCommand(program: Command, io: CliIo): void {
  program
    .command('observer')
    .description('observer nodes (courts, regulators) that sync and relay txs without voting (docs/cases.md)')
    .command('allow <peerId>')
    .description(
      "admit an observer: adds its peer id (from `jrchain init --observer`) to this validator's\n" +
        'config p2p.observers; the node applies it at its next start. Only listed peers may connect.',
    )
    .requiredOption('--home <dir>', "the validator's node home")
    .option('--json', 'print machine-readable JSON')
    .action((peerId: string, opts: { home: string; json?: boolean }) => {
      const r = allowObserver(opts.home, peerId);
      emit(io, opts.json === true, { peerId, ...r }, () =>
        r.added
          ? `added observer ${peerId} to ${r.configFile}; restart the node to admit it\n`
          : `observer ${peerId} is already listed in ${r.configFile}\n`,
      );
    });
}
