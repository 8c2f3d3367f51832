import { Command, CommanderError } from 'commander';
import { JrError } from '../core/errors.ts';
import { registerAuditCommand } from './audit.ts';
import { registerBenchCommand } from './bench.ts';
import { registerRotateEncryptionCommand, registerShredCommand } from './case-keys-admin.ts';
import { registerCaseCommands, registerStatsCommand } from './case-query.ts';
import { registerDevnetCommand } from './devnet.ts';
import { registerErsCommands } from './ers.ts';
import { registerEvidenceCommands, registerEvidenceQueryCommands } from './evidence.ts';
import { registerGenesisCommands } from './genesis.ts';
import { registerGovernanceCommands } from './gov.ts';
import { setCaFile } from './https-ca.ts';
import { registerInitCommand, registerObserverCommand } from './init.ts';
import { type CliIo, EXIT_CODES_HELP, ExitCode, exitCodeFor, processIo } from './io.ts';
import { registerKeysCommands } from './keys.ts';
import { registerReceiptGetCommand, registerStatusCommand } from './query.ts';
import { registerReceiptCommands } from './receipt.ts';
import { registerRenewHashCommand } from './renew-hash.ts';
import { registerStartCommand } from './start.ts';
import { registerTsaCommands } from './tsa.ts';
import { registerVerifierCommands } from './verifier.ts';
import { registerEvidenceVerifyCommand } from './verify-evidence.ts';

export function buildProgram(io: CliIo): Command {
  const program = new Command('jrchain')
    .description(
      'JRChain: an alliance-chain node for recording dispute-mediation evidence with trusted time.',
    )
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .option('--node-ca <file>', 'CA certificate (PEM) to trust for https:// nodes (default: $JRCHAIN_CA)')
    .exitOverride();
  setCaFile(undefined);
  program.hook('preAction', () => setCaFile(program.opts<{ nodeCa?: string }>().nodeCa));
  registerInitCommand(program, io);
  registerObserverCommand(program, io);
  registerStartCommand(program, io);
  registerKeysCommands(program, io);
  registerGenesisCommands(program, io);
  registerTsaCommands(program, io);
  registerReceiptCommands(program, io);
  registerEvidenceCommands(program, io);
  const evidence = program.commands.find((c) => c.name() === 'evidence')!;
  registerEvidenceQueryCommands(evidence, io);
  registerEvidenceVerifyCommand(evidence, io);
  registerRenewHashCommand(evidence, io);
  registerReceiptGetCommand(program.commands.find((c) => c.name() === 'receipt')!, io);
  registerErsCommands(program.commands.find((c) => c.name() === 'receipt')!, io);
  registerCaseCommands(program, io);
  registerShredCommand(program.commands.find((c) => c.name() === 'case')!, io);
  registerRotateEncryptionCommand(program.commands.find((c) => c.name() === 'keys')!, io);
  registerStatsCommand(program, io);
  registerAuditCommand(program, io);
  registerStatusCommand(program, io);
  registerGovernanceCommands(program, io);
  registerDevnetCommand(program, io);
  registerBenchCommand(program, io);
  registerVerifierCommands(program, io);
  // Sub-commands inherit output routing and exit behaviour.
  for (const c of program.commands) {
    c.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) }).exitOverride();
  }
  return program;
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can drive it in-process. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.exitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version surface as "errors" with exit code 0.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof JrError) {
      io.err(`error [${err.code}]: ${err.message}\n`);
      return exitCodeFor(err);
    }
    throw err;
  }
}
