/**
 * `jrchain verifier export FILE`: the verification page as one self-contained HTML file (ADR 013) that works
 * from file:// with no network, for mediators, courts and consumers to keep, mail or host anywhere.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { verifierPage } from '../dev/verifier-page.ts';
import type { CliIo } from './io.ts';

export function registerVerifierCommands(program: Command, io: CliIo): void {
  const verifier = program
    .command('verifier')
    .description('the browser verification page (also served by every node at /verify)');
  verifier
    .command('export')
    .argument('<file>', 'where to write the HTML file')
    .description(
      'write the verification page as ONE self-contained HTML file: it verifies receipts offline, from\n' +
        'file://, and connects nowhere (docs/receipts.md#in-a-browser)',
    )
    .action(async (file: string) => {
      const page = await verifierPage('exported');
      writeFileSync(file, page.html);
      io.out(`wrote ${file} (${Buffer.byteLength(page.html)} bytes)\n`);
    });
}
