import { Command, CommanderError } from 'commander';
import { JrError } from '../core/errors.ts';
import { registerTsaCommands } from './tsa.ts';

/** Exit codes shared by every command, so scripts can tell failures apart. */
export const ExitCode = {
  ok: 0,
  /** The operation ran and the answer is "no" (e.g. verification failed). */
  failed: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** Input files that cannot be read or parsed. */
  badInput: 3,
  /** A node, TSA or other service could not be reached or answered with an error. */
  unavailable: 4,
} as const;

export function buildProgram(): Command {
  const program = new Command('jrchain')
    .description('JRChain: an alliance-chain node for recording dispute-mediation evidence with trusted time')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerTsaCommands(program);
  return program;
}

/** Runs the CLI; returns the process exit code instead of exiting, so tests can drive it in-process. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are reported by commander as "errors" with exit code 0.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof JrError) {
      process.stderr.write(`error [${err.code}]: ${err.message}\n`);
      return err.code.startsWith('USAGE') ? ExitCode.usage : ExitCode.failed;
    }
    throw err;
  }
}
