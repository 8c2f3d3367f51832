/**
 * A one-validator home for whole-node tests (JrNode in this process), made the way an operator makes one:
 * an HTTP TSA on loopback, `init` (of either crypto suite), the member file assembled into a genesis that trusts
 * the TSA, and a config that anchors every 200 ms. The node's warnings go to `lines`, for failure messages.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Logger } from 'pino';
import type { SuiteName } from '../../src/core/crypto-suite.ts';
import type { Genesis } from '../../src/core/genesis.ts';
import { assembleGenesis, readMemberFile } from '../../src/core/member.ts';
import { loadConfig, type NodeConfig } from '../../src/node/config.ts';
import { initHome } from '../../src/node/home.ts';
import { createLogger } from '../../src/node/logger.ts';
import { TsaHttpServer } from '../../src/timestamp/server.ts';
import { removeDir, tempDir } from './ledger.ts';
import { freePortBlock } from './ports.ts';
import { makePki, startTsa } from './tsa.ts';

export interface OneNodeHome {
  home: string;
  genesis: Genesis;
  config: NodeConfig;
  /** The node's log lines so far. */
  lines: string[];
  /** A fresh logger writing to `lines` (one per JrNode.open). */
  logger(): Logger;
}

/** Makes the home under a temporary directory; `cleanups` gets what undoes it, to run in reverse order. */
export async function oneNodeHome(
  name: string,
  cleanups: (() => Promise<void>)[],
  cryptoSuite?: SuiteName,
): Promise<OneNodeHome> {
  const pki = await makePki();
  const tsa = await startTsa(pki, undefined, { clock: Date.now });
  cleanups.push(() => tsa.stop());
  const server = new TsaHttpServer(tsa, { port: 0 });
  await server.start();
  cleanups.push(() => server.stop());

  const home = await tempDir(name);
  cleanups.push(() => removeDir(home));
  const base = await freePortBlock(2);
  const tsaUrl = server.address.url;
  initHome({
    home,
    institution: 'bank-a',
    host: '127.0.0.1',
    p2pPort: base,
    apiPort: base + 1,
    tsaUrl,
    cryptoSuite,
  });
  const { json, genesis } = assembleGenesis([readMemberFile(join(home, 'member.json'))], {
    chainId: name,
    createdAt: new Date(Date.now() - 60_000),
    trustAnchors: [pki.rootPem],
    ...(cryptoSuite === undefined ? {} : { cryptoSuite }),
    consensus: { maxBatchWaitMs: 5 },
  });
  writeFileSync(join(home, 'genesis.json'), JSON.stringify(json));
  const config = { ...loadConfig(home), tsa: { ...loadConfig(home).tsa, anchorIntervalMs: 200 } };
  const lines: string[] = [];
  const logger = () => {
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => lines.push(d.toString()));
    return createLogger({ level: 'warn', destination: sink });
  };
  return { home, genesis, config, lines, logger };
}
