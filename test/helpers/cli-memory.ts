/** Runs `jrchain` in this process with in-memory stdout/stderr (no child process): for CLI tests. */
import { memoryIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';

export async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
