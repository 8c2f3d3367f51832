import type { Command } from 'commander';
import { verifierPage } from '../dev/verifier-page.ts';
import { type ConfigOverrides, loadConfig, resolveHomePath } from '../node/config.ts';
import { createLogger, LOG_LEVELS, type LogFormat, type LogLevel } from '../node/logger.ts';
import { JrNode } from '../node/node.ts';
import { type CliIo, UsageError } from './io.ts';
import { passphraseIfEncrypted } from './passphrase.ts';

export function registerStartCommand(program: Command, io: CliIo): void {
  program
    .command('start')
    .description(
      "run this institution's validator node from its home (config.json, genesis.json, validator.key, data/).\n" +
        'Flags override the config file, which environment variables (JRCHAIN_API_HOST, JRCHAIN_API_PORT,\n' +
        'JRCHAIN_P2P_LISTEN, JRCHAIN_TSA_URL, JRCHAIN_LOG_LEVEL, JRCHAIN_LOG_FORMAT) also override.\n' +
        'An encrypted validator key takes its passphrase from JRCHAIN_KEY_PASSPHRASE, else a prompt on a terminal.\n' +
        'Stops gracefully on SIGINT or SIGTERM.',
    )
    .requiredOption('--home <dir>', 'node home directory, made by `jrchain init`')
    .option('--api-host <host>', 'address the HTTP API binds (default loopback)')
    .option('--api-port <port>', 'HTTP API port')
    .option('--p2p-listen <multiaddr...>', 'libp2p listen addresses')
    .option('--tsa-url <url>', 'RFC 3161 TSA for block anchoring')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`)
    .option('--log-format <format>', 'json (default) or pretty')
    .action(
      async (opts: {
        home: string;
        apiHost?: string;
        apiPort?: string;
        p2pListen?: string[];
        tsaUrl?: string;
        logLevel?: string;
        logFormat?: string;
      }) => {
        const flags: ConfigOverrides = {};
        if (opts.apiHost !== undefined) flags.apiHost = opts.apiHost;
        if (opts.apiPort !== undefined) {
          if (!/^\d{1,5}$/.test(opts.apiPort) || Number(opts.apiPort) > 65535)
            throw new UsageError('--api-port must be a port');
          flags.apiPort = Number(opts.apiPort);
        }
        if (opts.p2pListen !== undefined) flags.p2pListen = opts.p2pListen;
        if (opts.tsaUrl !== undefined) flags.tsaUrl = opts.tsaUrl;
        if (opts.logLevel !== undefined) {
          if (!(LOG_LEVELS as readonly string[]).includes(opts.logLevel))
            throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
          flags.logLevel = opts.logLevel as LogLevel;
        }
        if (opts.logFormat !== undefined) {
          if (opts.logFormat !== 'json' && opts.logFormat !== 'pretty')
            throw new UsageError('--log-format must be json or pretty');
          flags.logFormat = opts.logFormat as LogFormat;
        }
        const config = loadConfig(opts.home, flags);
        const log = createLogger({
          level: config.log.level,
          format: config.log.format,
          name: config.institution,
        });
        // A prompt only when the key is encrypted, JRCHAIN_KEY_PASSPHRASE is unset and a terminal is attached.
        const passphrase = await passphraseIfEncrypted(resolveHomePath(config, config.validatorKeyFile));
        const node = await JrNode.open(config, log, passphrase !== undefined ? { passphrase } : {}, {
          verifierPage: () => verifierPage('served'),
        });
        let started: { apiUrl: string; p2pAddrs: string[] };
        try {
          started = await node.start();
        } catch (err) {
          await node.stop();
          throw err;
        }
        io.out(
          `node ${config.institution} started: api ${started.apiUrl} p2p ${started.p2pAddrs.join(' ')}\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            log.info({ signal }, 'shutting down');
            node.stop().then(resolve, (err: unknown) => {
              log.error({ err }, 'shutdown failed');
              resolve();
            });
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
      },
    );
}
