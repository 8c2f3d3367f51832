/**
 * End to end: the real CLI against a real devnet (validators and TSA as separate processes on loopback), created
 * as `jrchain devnet --observer` creates it: a genesis that requires sealed cases (ADR 015) and a court, court-a,
 * running an observer node through which the demo's court records its decision.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseTx } from '../../src/cli/case.ts';
import { ApiClient } from '../../src/cli/client.ts';
import { runDemo, SAMPLES } from '../../src/cli/devnet.ts';
import { DEMO_CLAIMANT_REF } from '../../src/cli/devnet-case-demo.ts';
import { resolveIdentity, send } from '../../src/cli/evidence.ts';
import { loadGenesisFile } from '../../src/core/genesis-file.ts';
import { parseTx } from '../../src/core/tx.ts';
import type { DevnetManifest } from '../../src/dev/devnet.ts';
import { type Child, logTail, spawnJrchain, stopChild, waitFor } from '../../src/dev/processes.ts';
import { decodeTxRecord } from '../../src/ledger/records.ts';
import { bcCheckErs, bouncyCastleMissing } from '../helpers/bouncycastle.ts';
import { cli, recordAndFetchReceipt, spawnDevnet, stopDevnet } from '../helpers/devnet-process.ts';
import { findSecrets } from '../helpers/outsider.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-e2e-'));
const devnetDir = join(dir, 'devnet');
let devnet: Child;
let m: DevnetManifest;
let demoText = '';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function api(url: string, init?: RequestInit): Promise<{ status: number; json: any }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: r.status, json: await r.json() };
}

beforeAll(async () => {
  // 5 nodes: the 4 validators and the observer.
  ({ devnet, manifest: m } = await spawnDevnet('devnet', devnetDir, join(dir, 'devnet.log'), 5, [
    '--observer',
  ]));
}, 150_000);

afterAll(async () => {
  await stopDevnet(devnet);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('devnet end to end', () => {
  it('writes devnet.json with the documented shape, and every node reports the same chain', async () => {
    expect(m).toMatchObject({
      chainId: 'jrchain-devnet',
      tsa: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/) },
    });
    expect(m.nodes).toHaveLength(4);
    for (const n of m.nodes) {
      expect(n).toEqual({
        institution: expect.any(String),
        home: expect.any(String),
        apiUrl: expect.any(String),
        multiaddr: expect.any(String),
        pid: expect.any(Number),
        clientKey: expect.any(String),
      });
      const s = await api(`${n.apiUrl}/v1/status`);
      expect(s.json).toMatchObject({ chainId: 'jrchain-devnet', institution: n.institution });
    }
  });

  it('submit → commit → receipt → offline verify, and a tampered receipt fails', async () => {
    const file = join(dir, 'agreement.txt');
    // Another institution's node serves the receipt once an anchor covers the block.
    const out = join(dir, 'receipt.json');
    const text = 'card agreement between bank-a and the cardholder, 2024-03-02\n';
    const { submit: sub } = await recordAndFetchReceipt(m, file, text, 'E2E-1', out, 60_000);
    expect(sub.code, sub.stderr).toBe(0);
    expect(JSON.parse(sub.stdout).summary).toMatchObject({ recorded: 1, failed: 0 });
    const v = await cli('receipt', 'verify', out, '--genesis', m.genesis, '--file', file, '--require-anchor');
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/ok {3}anchor/);

    const ev = await cli('evidence', 'verify', file, '--genesis', m.genesis, '--node', m.nodes[2]!.apiUrl);
    expect(ev.code, ev.stdout).toBe(0);
    expect(ev.stdout).toMatch(/PROVEN: .*agreement\.txt is recorded 1 time/);

    const doc = JSON.parse(readFileSync(out, 'utf8'));
    doc.summary.institution = 'bank-c';
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(doc));
    const t = await cli('receipt', 'verify', tampered, '--genesis', m.genesis, '--file', file);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/FAIL summary/);
  });

  it('exports an RFC 4998 evidence record that our verifier and (when present) BouncyCastle validate', async () => {
    const file = join(dir, 'ers-agreement.txt');
    writeFileSync(file, 'mediation agreement E2E-ERS, long-term copy\n');
    const [a, b] = m.nodes;
    const args = [
      '--case',
      'E2E-ERS',
      '--type',
      'mediation-agreement',
      '--key',
      a!.clientKey,
      '--node',
      a!.apiUrl,
      '--wait',
    ];
    const sub = await cli('evidence', 'submit', file, ...args);
    expect(sub.code, sub.stderr).toBe(0);
    const ers = join(dir, 'agreement.ers');
    await waitFor(
      'an evidence record (the next anchor carries its archive timestamp)',
      async () =>
        (await cli('receipt', 'export', file, '--format', 'ers', '-o', ers, '--node', b!.apiUrl)).code === 0
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    const v = await cli('receipt', 'verify-ers', ers, '--doc', file, '--genesis', m.genesis);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/PROVEN: the document existed no later than/);
    const other = join(dir, 'not-recorded.txt');
    writeFileSync(other, 'never recorded\n');
    expect((await cli('receipt', 'verify-ers', ers, '--doc', other, '--genesis', m.genesis)).code).toBe(1);
    if (bouncyCastleMissing() === undefined) {
      const root = join(dir, 'devnet-tsa-root.pem');
      writeFileSync(root, loadGenesisFile(m.genesis).tsa.trustAnchors.join('\n'));
      const bc = await bcCheckErs(dir, ers, file, root, new Date());
      expect(bc.ok, bc.out).toBe(true);
    }
  });

  it('evidence carrying its own RFC 3161 token (--stamp) is accepted by validators and verified offline', async () => {
    const file = join(dir, 'call-log.txt');
    writeFileSync(file, 'collection call log, 2026-02-11, 3 calls\n');
    const b = m.nodes[1]!;
    const sub = await cli(
      'evidence',
      'submit',
      file,
      '--case',
      'E2E-2',
      '--type',
      'call-record',
      '--stamp',
      '--tsa',
      m.tsa.url,
      '--key',
      b.clientKey,
      '--node',
      b.apiUrl,
      '--wait',
      '--json',
    );
    expect(sub.code, sub.stderr).toBe(0);
    expect(JSON.parse(sub.stdout).summary).toMatchObject({ recorded: 1 });
    const out = join(dir, 'stamped-receipt.json');
    expect((await cli('receipt', 'get', file, '--out', out, '--node', m.nodes[0]!.apiUrl)).code).toBe(0);
    const v = await cli('receipt', 'verify', out, '--genesis', m.genesis, '--file', file);
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/ok {3}evidenceToken +evidence hash time-stamped at 20/);
  });

  it('the demo: sealed evidence and a sealed dispute case through every role on the real validators; the case receipt verifies offline', async () => {
    const lines: string[] = [];
    expect(await runDemo(m, join(dir, 'demo'), (l) => lines.push(l)), lines.join('\n')).toBe(true);
    const text = lines.join('\n');
    demoText = text;
    // The court is the observer's institution: its decision went through its own node (ADR 015: sealed too).
    expect(m.observer?.institution).toBe('court-a');
    expect(text).toMatch(/court-a +decide +committed/);
    expect(text).toMatch(/ok +timeline +8 event\(s\) replay to status closed/);
    const caseId = /case demo: (DEMO-\d+),/.exec(text)![1]!;
    // The chain knows the case only by its reference (ADR 011).
    const ref = new RegExp(`on the chain ${caseId} is (k1:[0-9a-f]{64})`).exec(text)![1]!;
    // Case reads are signed (docs/api.md#authentication): as the respondent bank, with its client key.
    const asBank = async (url: string) => {
      const client = new ApiClient(url);
      await resolveIdentity(client, m.nodes[0]!.clientKey);
      return client;
    };
    // Every node serves the same case: one from another node than any party used.
    const served = await Promise.all(
      m.nodes.map(async (n) => (await (await asBank(n.apiUrl)).get<any>(`/v1/cases/${ref}`)).body),
    );
    for (const s of served) expect(s.case.status).toBe('closed');
    expect((await (await asBank(m.nodes[1]!.apiUrl)).get<any>(`/v1/cases/${caseId}`)).body.case).toBeNull();
    // bank-a's own node keeps bank-a's case-key store in its home: it serves bank-a the case by its id, opened.
    const own = (await (await asBank(m.nodes[0]!.apiUrl)).get<any>(`/v1/cases/${caseId}`)).body;
    expect(own).toMatchObject({ caseId: ref, clear: { caseId }, case: { status: 'closed' } });
    expect((await api(`${m.nodes[1]!.apiUrl}/v1/cases/${ref}`)).json.code).toBe('AUTH_REQUIRED');
    expect(text).toMatch(/bank-b asks for DEMO-\d+: HTTP 403 FORBIDDEN_NOT_PARTY/);
    const stats = (await (await asBank(m.nodes[3]!.apiUrl)).get<any>('/v1/stats')).body;
    expect(stats.all).toMatchObject({ opened: 2, agreed: 1, failed: 1, confirmed: 1 });
  }, 240_000);

  it("an outsider decoding every tx of the ledger finds none of the demo's case ids, claimant reference or labels", async () => {
    expect(demoText, 'the demo test runs first').toMatch(/case demo: DEMO-/);
    const caseId = /case demo: (DEMO-\d+),/.exec(demoText)![1]!;
    const secrets = [
      ...new Set(SAMPLES.flatMap((x) => [x.caseId, x.label])),
      caseId,
      `${caseId}-B`,
      DEMO_CLAIMANT_REF,
    ];
    // Unsigned block and tx reads are served to loopback callers: the operator's view of the whole ledger, here
    // the observer's synced copy.
    const url = m.observer!.apiUrl;
    const head = (await api(`${m.nodes[2]!.apiUrl}/v1/status`)).json.height as number;
    const height = await waitFor(
      'the observer to sync the demo',
      async () => {
        const h = (await api(`${url}/v1/status`)).json.height as number;
        return h >= head ? h : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const txs: { bytes: Uint8Array; view: string }[] = [];
    for (let h = 1; h <= height; h++) {
      for (const th of (await api(`${url}/v1/blocks/${h}`)).json.txHashes as string[]) {
        const t = (await api(`${url}/v1/txs/${th}`)).json;
        const bytes = new Uint8Array(Buffer.from(t.bytes, 'base64'));
        txs.push({
          bytes,
          view: JSON.stringify({ ...t, decoded: decodeTxRecord(parseTx(bytes).tx) }, (_k, v) =>
            v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
          ),
        });
      }
    }
    expect(txs.filter((t) => t.view.includes('"type":"case"')).length).toBeGreaterThanOrEqual(11);
    expect(findSecrets(txs, secrets)).toEqual([]);
    // The search finds what is in clear: the e2e's own unsealed evidence names its case E2E-1.
    expect(findSecrets(txs, ['E2E-1']).length).toBeGreaterThan(0);
  }, 120_000);

  it('the devnet genesis requires sealed cases: a validator refuses a case named in clear (TX_CASE_UNSEALED)', async () => {
    expect(loadGenesisFile(m.genesis).cases.sealing).toBe('required');
    const client = new ApiClient(m.nodes[1]!.apiUrl);
    const id = await resolveIdentity(client, m.nodes[0]!.clientKey);
    const claimant = new Uint8Array(32).fill(7);
    const env = caseTx(id, {
      caseId: 'E2E-PLAIN-1',
      event: { type: 'open', respondent: id.institution, claimant },
    });
    const r = await send(client, env, true);
    expect(r.body.code).toBe('TX_CASE_UNSEALED');
  }, 60_000);

  it('a node stopped with SIGTERM exits cleanly and resumes its chain on restart', async () => {
    const c = m.nodes[2]!;
    const before = (await api(`${c.apiUrl}/v1/status`)).json.height;
    process.kill(c.pid!, 'SIGTERM');
    await waitFor('the node to exit', async () => (isAlive(c.pid!) ? undefined : true), {
      timeoutMs: 30_000,
    });
    const restarted = spawnJrchain(
      `${c.institution}-restarted`,
      ['start', '--home', c.home],
      join(dir, 'restarted.log'),
    );
    try {
      await waitFor(
        'the restarted node to be ready',
        async () => ((await api(`${c.apiUrl}/ready`)).status === 200 ? true : undefined),
        {
          timeoutMs: 90_000,
          child: restarted,
          intervalMs: 500,
        },
      );
      const after = (await api(`${c.apiUrl}/v1/status`)).json;
      expect(after.height).toBeGreaterThanOrEqual(before);
      expect(after.chainId).toBe('jrchain-devnet');
      // The restart accepted the head its first run signed; audit verify checks it against the node's key.
      const audited = await cli(
        'audit',
        'verify',
        '--data-dir',
        join(c.home, 'data'),
        '--home',
        c.home,
        '--json',
      );
      expect(audited.code, audited.stderr).toBe(0);
      expect(JSON.parse(audited.stdout)).toMatchObject({ keyChecked: true, signedBy: expect.any(String) });
      expect(logTail(join(devnetDir, 'logs', `${c.institution}.log`), 200)).toMatch(/"msg":"node stopped"/);
    } finally {
      expect(await stopChild(restarted, 20_000)).toBe(0);
    }
  }, 150_000);

  it('a file that was never recorded is reported as not proven', async () => {
    const never = join(dir, 'never.txt');
    writeFileSync(never, 'this was never recorded');
    const r = await cli('evidence', 'verify', never, '--genesis', m.genesis, '--node', m.nodes[1]!.apiUrl);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/NOT PROVEN: .*never was recorded|NOT PROVEN: .* was never recorded/);
  });

  it('bad flags and bad files give clear errors and distinct exit codes', async () => {
    const badType = await cli(
      'evidence',
      'submit',
      m.genesis,
      '--case',
      'C',
      '--type',
      'selfie',
      '--key',
      m.nodes[0]!.clientKey,
      '--node',
      m.nodes[0]!.apiUrl,
    );
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/--type must be one of/);
    const missing = await cli('receipt', 'verify', join(dir, 'nope.json'), '--genesis', m.genesis);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/FILE_UNREADABLE/);
    const brokenGenesis = join(dir, 'broken-genesis.json');
    writeFileSync(brokenGenesis, '{"format": "jrchain-genesis/v1"}');
    const g = await cli(
      'evidence',
      'verify',
      m.genesis,
      '--genesis',
      brokenGenesis,
      '--node',
      m.nodes[0]!.apiUrl,
    );
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/GENESIS_INVALID/);
    const unknown = await cli('status', '--node', m.nodes[0]!.apiUrl, '--frobnicate');
    expect(unknown.code).toBe(2);
  });

  it('API bad input gets 4xx JSON errors and changes nothing', async () => {
    const node = m.nodes[0]!.apiUrl;
    const before = (await api(`${node}/v1/status`)).json;
    const garbage = await api(`${node}/v1/txs`, {
      method: 'POST',
      body: new Uint8Array([1, 2, 3]),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.json.code).toMatch(/^CODEC_/);
    const huge = await fetch(`${node}/v1/txs`, {
      method: 'POST',
      body: new Uint8Array(200_000),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(huge.status).toBe(413);
    expect((await api(`${node}/v1/blocks/abc`)).status).toBe(400);
    expect((await api(`${node}/v1/evidence/xyz`)).status).toBe(400);
    expect((await api(`${node}/v1/nothing`)).status).toBe(404);
    const after = (await api(`${node}/v1/status`)).json;
    expect(after.pendingTxs).toBe(before.pendingTxs);
    expect(after.height - before.height).toBeLessThanOrEqual(1); // at most an anchor block, never our garbage
  });

  it('/ready flips to 503 when a quorum is unreachable and back to 200 when it returns', async () => {
    const probe = m.nodes[0]!.apiUrl;
    expect((await api(`${probe}/ready`)).status).toBe(200);
    // Two of four paused (not the node restarted above): the other two cannot form a quorum of three.
    for (const pid of [m.nodes[1]!.pid, m.nodes[3]!.pid]) process.kill(pid!, 'SIGSTOP');
    try {
      const notReady = await waitFor(
        '/ready to report the lost quorum',
        async () => {
          const r = await api(`${probe}/ready`);
          return r.status === 503 ? r.json : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      expect(notReady.reasons.join(' ')).toMatch(/quorum/);
    } finally {
      for (const pid of [m.nodes[1]!.pid, m.nodes[3]!.pid]) process.kill(pid!, 'SIGCONT');
    }
    await waitFor(
      '/ready to recover',
      async () => ((await api(`${probe}/ready`)).status === 200 ? true : undefined),
      {
        timeoutMs: 90_000,
        intervalMs: 500,
      },
    );
  }, 240_000);
});
