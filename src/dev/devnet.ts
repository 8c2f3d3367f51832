/**
 * The devnet: a local alliance on loopback, the main thing a newcomer runs (`npm run devnet`). It creates (or
 * reuses) N institutions with a validator each, an embedded TSA that anchors blocks, and a genesis; runs each
 * validator and the TSA as separate OS processes; writes `DIR/devnet.json` for scripts; and stays up until
 * Ctrl-C, which stops everything cleanly. A second run resumes the same chain. With `observer`, a court
 * (`court-a`) also runs an observer node that every validator admits (docs/cases.md).
 */

import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SuiteName } from '../core/crypto-suite.ts';
import { JrError } from '../core/errors.ts';
import { DEFAULT_CASE_SEALING, genesisToJson } from '../core/genesis.ts';
import { loadGenesisFile } from '../core/genesis-file.ts';
import { assembleGenesis, readMemberFile } from '../core/member.ts';
import type { ConsensusParams } from '../core/params.ts';
import type { InstitutionRole } from '../core/roles.ts';
import { allowObserver, HOME_FILES, initHome } from '../node/home.ts';
import { initTsaDir, issueTsaCrl, TsaFiles } from '../timestamp/index.ts';
import { type Child, logTail, portFree, spawnJrchain, stopChild, waitFor } from './processes.ts';

export const DEVNET_MANIFEST = 'devnet.json';

export interface DevnetNode {
  institution: string;
  home: string;
  apiUrl: string;
  multiaddr: string;
  pid: number | null;
  clientKey: string;
}

export interface DevnetManifest {
  chainId: string;
  genesis: string;
  tsa: { url: string; rootCert: string };
  /** The validators. */
  nodes: DevnetNode[];
  /** The court's observer node, when the devnet was created with one. */
  observer?: DevnetNode;
}

export interface DevnetOptions {
  dir: string;
  validators: number;
  /** First validator p2p port; validator i uses basePort + i. */
  basePort: number;
  /** First API port; validator i serves on apiBasePort + i. */
  apiBasePort: number;
  tsaPort: number;
  logFormat: 'json' | 'pretty';
  out: (line: string) => void;
  /** Consensus parameters over the devnet's own (first run only; e.g. the benchmark's batch size). */
  consensus?: Partial<ConsensusParams>;
  /** Extra environment for the validator processes (e.g. NODE_OPTIONS=--cpu-prof when profiling). */
  nodeEnv?: NodeJS.ProcessEnv;
  /** Also a court (`court-a`) with an observer node on the ports after the validators' (first run only). */
  observer?: boolean;
  /** The chain's suite (ADR 014; first run only): sm2-sm3 gives every institution SM2 keys. Default Ed25519. */
  cryptoSuite?: SuiteName;
}

/** The layout a devnet keeps across runs (ports live in the genesis and configs, so they are fixed at creation). */
interface DevnetLayout {
  chainId: string;
  validators: number;
  basePort: number;
  apiBasePort: number;
  tsaPort: number;
  observer?: boolean;
  /** Absent: ed25519-sha256. */
  cryptoSuite?: SuiteName;
}

/** The court that runs the devnet's observer node. */
export const DEVNET_OBSERVER = 'court-a';
const LAYOUT_FILE = 'layout.json';
/** Roles of the first devnet institutions beyond the default `bank` (docs/cases.md). */
/**
 * A short renewal policy, so that a devnet shows timestamp renewal within minutes: every archive is renewed
 * once its newest token is ten minutes old (and, as in production, 30 days before its certificate expires).
 */
export const DEVNET_RENEWAL = { beforeExpiryMs: 30 * 86_400_000, maxAgeMs: 600_000, checkIntervalMs: 60_000 };

const DEVNET_ROLES: readonly (InstitutionRole | undefined)[] = [undefined, undefined, 'mediator', 'court'];
const institutionId = (i: number) =>
  `bank-${String.fromCharCode(97 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''}`;

/** Creates the devnet's keys, TSA and genesis, or returns the existing layout. */
export async function prepareDevnet(o: DevnetOptions): Promise<DevnetLayout> {
  const dir = resolve(o.dir);
  const layoutPath = join(dir, LAYOUT_FILE);
  if (existsSync(layoutPath)) {
    const layout = JSON.parse(readFileSync(layoutPath, 'utf8')) as DevnetLayout;
    const suite = layout.cryptoSuite ?? 'ed25519-sha256';
    o.out(
      `resuming the devnet in ${dir} (${layout.validators} validators, chain ${layout.chainId}, ${suite})`,
    );
    return layout;
  }
  if (o.validators < 1 || o.validators > 26) throw new JrError('USAGE', '--validators must be 1-26');
  const suite = o.cryptoSuite ?? 'ed25519-sha256';
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const layout: DevnetLayout = {
    chainId: 'jrchain-devnet',
    validators: o.validators,
    basePort: o.basePort,
    apiBasePort: o.apiBasePort,
    tsaPort: o.tsaPort,
    ...(o.observer ? { observer: true } : {}),
    ...(suite === 'ed25519-sha256' ? {} : { cryptoSuite: suite }),
  };
  o.out(`creating a devnet in ${dir}: ${o.validators} institutions, an embedded TSA, a genesis (${suite})`);
  // An SM devnet's TSA is SM2 too, so every signature of the chain and its anchors is a national algorithm.
  await initTsaDir(join(dir, 'tsa'), {
    organization: 'JRChain Devnet Time Authority',
    now: new Date(),
    ...(suite === 'sm2-sm3' ? { keyAlgorithm: 'sm2' as const } : {}),
  });
  // The root's CRL: evidence records carry it as revocation data (docs/long-term.md).
  const crl = await issueTsaCrl(join(dir, 'tsa'), { now: new Date(), days: 30 });
  const tsaUrl = `http://127.0.0.1:${o.tsaPort}/`;
  const members = [];
  for (let i = 0; i < o.validators; i++) {
    const id = institutionId(i);
    const r = initHome({
      home: join(dir, id),
      institution: id,
      name: `Bank ${id.slice(5).toUpperCase()}`,
      p2pPort: o.basePort + i,
      apiPort: o.apiBasePort + i,
      tsaUrl,
      renewal: DEVNET_RENEWAL,
      crlFiles: [crl.file],
      cryptoSuite: suite,
    });
    const member = readMemberFile(r.memberFile);
    // With four or more institutions the third mediates and the fourth is a court (the case demo's parties).
    const role = o.validators >= 4 ? DEVNET_ROLES[i] : undefined;
    members.push(role === undefined ? member : { ...member, institution: { ...member.institution, role } });
  }
  const observer = o.observer
    ? initHome({
        home: join(dir, DEVNET_OBSERVER),
        institution: DEVNET_OBSERVER,
        name: 'Court A',
        role: 'court',
        observer: true,
        p2pPort: o.basePort + o.validators,
        apiPort: o.apiBasePort + o.validators,
        tsaUrl,
        cryptoSuite: suite,
      })
    : undefined;
  if (observer !== undefined) members.push(readMemberFile(observer.memberFile));
  const rootPem = readFileSync(join(dir, 'tsa', TsaFiles.rootCert), 'utf8');
  const { genesis } = assembleGenesis(members, {
    chainId: layout.chainId,
    createdAt: new Date(),
    trustAnchors: [rootPem],
    caseSealing: DEFAULT_CASE_SEALING,
    ...(suite === 'ed25519-sha256' ? {} : { cryptoSuite: suite }),
    // A devnet should feel quick: small batches and short timeouts on loopback.
    consensus: { maxBatchWaitMs: 20, requestTimeoutMs: 4000, viewChangeTimeoutMs: 2000, ...o.consensus },
  });
  const genesisPath = join(dir, 'genesis.json');
  writeFileSync(genesisPath, `${JSON.stringify(genesisToJson(genesis), null, 2)}\n`);
  for (let i = 0; i < o.validators; i++) {
    copyFileSync(genesisPath, join(dir, institutionId(i), 'genesis.json'));
    if (observer !== undefined) allowObserver(join(dir, institutionId(i)), observer.peerId);
  }
  if (observer !== undefined) copyFileSync(genesisPath, join(dir, DEVNET_OBSERVER, 'genesis.json'));
  writeFileSync(layoutPath, `${JSON.stringify(layout, null, 2)}\n`);
  return layout;
}

export interface RunningDevnet {
  manifest: DevnetManifest;
  children: Child[];
  stop(): Promise<void>;
}

/** Starts the TSA and every validator, waits until all are healthy and ready, and writes devnet.json. */
export async function startDevnet(o: DevnetOptions): Promise<RunningDevnet> {
  const dir = resolve(o.dir);
  const layout = await prepareDevnet(o);
  const ports = [layout.tsaPort];
  const count = layout.validators + (layout.observer ? 1 : 0);
  for (let i = 0; i < count; i++) ports.push(layout.basePort + i, layout.apiBasePort + i);
  const busy = [];
  for (const p of ports) if (!(await portFree(p))) busy.push(p);
  if (busy.length > 0) {
    throw new JrError(
      'DEVNET_PORTS_BUSY',
      `ports ${busy.join(', ')} are in use (another devnet running?); stop it, or create a new devnet with --dir and --base-port`,
    );
  }
  const children: Child[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
  };
  try {
    const tsa = spawnJrchain(
      'tsa',
      ['tsa', 'serve', '--dir', join(dir, 'tsa'), '--port', String(layout.tsaPort)],
      join(dir, 'logs', 'tsa.log'),
    );
    children.push(tsa);
    const tsaUrl = `http://127.0.0.1:${layout.tsaPort}/`;
    await waitFor(
      'the TSA to listen',
      async () => (/listening /.test(logTail(tsa.logFile, 50)) ? true : undefined),
      {
        timeoutMs: 30_000,
        child: tsa,
      },
    );
    const nodes: DevnetNode[] = [];
    for (let i = 0; i < count; i++) {
      const id = i < layout.validators ? institutionId(i) : DEVNET_OBSERVER;
      const home = join(dir, id);
      const child = spawnJrchain(
        id,
        ['start', '--home', home, '--log-format', o.logFormat],
        join(dir, 'logs', `${id}.log`),
        o.nodeEnv,
      );
      children.push(child);
      nodes.push({
        institution: id,
        home,
        apiUrl: `http://127.0.0.1:${layout.apiBasePort + i}`,
        multiaddr: `/ip4/127.0.0.1/tcp/${layout.basePort + i}`,
        pid: child.proc.pid ?? null,
        clientKey: join(home, HOME_FILES.clientKey),
      });
    }
    for (const [i, n] of nodes.entries()) {
      await waitFor(
        `${n.institution} to be ready`,
        async () =>
          (await fetch(`${n.apiUrl}/ready`, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined,
        { timeoutMs: 90_000, child: children[i + 1]!, intervalMs: 250 },
      );
    }
    const manifest: DevnetManifest = {
      chainId: layout.chainId,
      genesis: join(dir, 'genesis.json'),
      tsa: { url: tsaUrl, rootCert: join(dir, 'tsa', TsaFiles.rootCert) },
      nodes: nodes.slice(0, layout.validators),
      ...(layout.observer ? { observer: nodes[layout.validators]! } : {}),
    };
    writeFileSync(join(dir, DEVNET_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    // Validate what we wrote against what the nodes run, so the manifest can be trusted by scripts.
    loadGenesisFile(manifest.genesis);
    return { manifest, children, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function describeDevnet(m: DevnetManifest, dir: string): string {
  const first = m.nodes[0]!;
  return [
    '',
    `JRChain devnet "${m.chainId}" is up: ${m.nodes.length} validators and an embedded TSA, all on loopback.`,
    '',
    ...m.nodes.map((n) => `  ${n.institution.padEnd(8)} API ${n.apiUrl}   p2p ${n.multiaddr}   pid ${n.pid}`),
    ...(m.observer
      ? [`  ${m.observer.institution.padEnd(8)} API ${m.observer.apiUrl}   (observer node: the court's own)`]
      : []),
    `  TSA      ${m.tsa.url}`,
    '',
    `genesis:   ${m.genesis}`,
    `manifest:  ${join(resolve(dir), DEVNET_MANIFEST)}   logs: ${join(resolve(dir), 'logs')}`,
    '',
    'Try it (in another terminal):',
    `  echo "loan contract, signed 2026-01-15" > contract.txt`,
    `  npx jrchain evidence submit contract.txt --case 2026-BJ-CC-000123 --type contract \\`,
    `      --key ${first.clientKey} --node ${first.apiUrl} --wait`,
    `  npx jrchain evidence verify contract.txt --genesis ${m.genesis} --node ${m.nodes[m.nodes.length - 1]!.apiUrl}`,
    `  npx jrchain status --node ${first.apiUrl}`,
    '',
    'Press Ctrl-C to stop. Running `npm run devnet` again resumes this chain.',
    '',
  ].join('\n');
}
