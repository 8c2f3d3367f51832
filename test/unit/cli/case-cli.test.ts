/** `jrchain case ...` and `jrchain stats` against a fake node (docs/cases.md). */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { genesisToJson } from '../../../src/core/genesis.ts';
import { keyPairFromSeed, writeKeyFile } from '../../../src/core/keys.ts';
import { casesGenesis } from '../../helpers/cases.ts';
import { cli as runInMemory } from '../../helpers/cli-memory.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-case-cli-'));
const key = (inst: string) => join(dir, `${inst}.key`);
let node: FakeNode;

/** Runs without --node: offline commands. */
async function offline(...argv: string[]) {
  const io = memoryIo();
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const cli = (...argv: string[]) => runInMemory(...argv, '--node', node.url);

beforeAll(async () => {
  node = await startFakeNode(casesGenesis(), { autoCommit: true });
  for (const inst of ['bank-a', 'bank-b', 'bank-c', 'bank-d'])
    writeKeyFile(key(inst), keyPairFromSeed(sha256(utf8.encode(`jrchain-test-key:${inst}/client-1`))));
  writeFileSync(join(dir, 'agreement.pdf'), 'the agreement');
  writeFileSync(join(dir, 'ruling.pdf'), 'the ruling');
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('jrchain case', () => {
  it('runs a case from complaint to judicial confirmation, and shows, lists and counts it', async () => {
    const id = 'CLI-1';
    const bank = ['--key', key('bank-a'), '--json'];
    const mediator = ['--key', key('bank-c'), '--json'];
    const opened = await cli(
      'case',
      'open',
      id,
      '--respondent',
      'bank-a',
      '--claimant-ref',
      '110101199001011234',
      ...bank,
    );
    expect(opened.code, opened.stderr).toBe(0);
    const o = JSON.parse(opened.stdout);
    expect(o).toMatchObject({ caseId: id, event: 'open', status: 'committed' });
    expect(o.salt).toMatch(/^[0-9a-f]{32}$/);
    // The claimant reference never leaves this machine; only the commitment does.
    expect(opened.stdout).not.toContain('110101199001011234');
    expect((await cli('case', 'assign', id, '--mediator', 'bank-c', ...bank)).code).toBe(0);
    expect((await cli('case', 'session', id, '--seq', '1', ...mediator)).code).toBe(0);
    const agreement = join(dir, 'agreement.pdf');
    // Without the bank's co-signature, the chain refuses the agreement with a clear code.
    const lone = await cli('case', 'agree', id, '--agreement', agreement, ...mediator);
    expect(lone.code).toBe(1);
    expect(lone.stderr).toMatch(/TX_CASE_MISSING_PARTY/);
    const co = await cli('case', 'co-sign', id, '--agreement', agreement, '--key', key('bank-a'));
    writeFileSync(join(dir, 'cosig.json'), co.stdout);
    const agreed = await cli(
      'case',
      'agree',
      id,
      '--agreement',
      agreement,
      '--co-signature',
      join(dir, 'cosig.json'),
      ...mediator,
    );
    expect(agreed.code, agreed.stderr).toBe(0);
    expect((await cli('case', 'apply-confirmation', id, '--court', 'bank-d', ...mediator)).code).toBe(0);
    const ruling = join(dir, 'ruling.pdf');
    const byBank = await cli('case', 'confirm', id, '--ruling', ruling, ...bank);
    expect(byBank.code).toBe(1);
    expect(byBank.stderr).toMatch(/TX_CASE_WRONG_ROLE/);
    const confirmed = await cli('case', 'confirm', id, '--ruling', ruling, '--key', key('bank-d'), '--json');
    expect(confirmed.code, confirmed.stderr).toBe(0);
    // Re-running an event is safe: the same event is never recorded twice.
    const again = await cli('case', 'confirm', id, '--ruling', ruling, '--key', key('bank-d'), '--json');
    expect(JSON.parse(again.stdout).status).toBe('already-recorded');
    expect((await cli('case', 'close', id, ...mediator)).code).toBe(0);

    const shown = JSON.parse((await cli('case', 'show', id, '--json', '--key', key('bank-a'))).stdout);
    expect(shown.case.status).toBe('closed');
    expect(shown.case.timeline.map((e: { event: string }) => e.event)).toEqual([
      'open',
      'assign',
      'session',
      'agree',
      'applyConfirmation',
      'decide',
      'close',
    ]);
    expect((await cli('case', 'show', id, '--key', key('bank-c'))).stdout).toMatch(/case CLI-1: closed/);
    const list = JSON.parse((await cli('case', 'list', '--json', '--key', key('bank-a'))).stdout);
    expect(list.cases.map((c: { caseId: string }) => c.caseId)).toEqual([id]);
    const stats = await cli('stats', '--json', '--key', key('bank-d'));
    expect(JSON.parse(stats.stdout).all).toMatchObject({
      opened: 1,
      agreed: 1,
      confirmed: 1,
      successRate: 1,
    });
    expect((await cli('stats', '--key', key('bank-a'))).stdout).toMatch(
      /all: opened 1, mediated 1 \(agreed 1, failed 0\), success 100.0 %/,
    );

    // The whole timeline as one receipt, verified offline; a tampered copy is not proven.
    const file = join(dir, 'case.receipt.json');
    expect((await cli('case', 'receipt', id, '--out', file, '--key', key('bank-d'))).code).toBe(0);
    const genesisFile = join(dir, 'genesis.json');
    writeFileSync(genesisFile, JSON.stringify(genesisToJson(casesGenesis())));
    const ok = await offline('case', 'verify', file, '--genesis', genesisFile);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/PROVEN: case CLI-1 is closed after 7 event\(s\)/);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.events.splice(1, 1);
    writeFileSync(join(dir, 'dropped.json'), JSON.stringify(doc));
    const bad = await offline('case', 'verify', join(dir, 'dropped.json'), '--genesis', genesisFile);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL timeline .*RECEIPT_CASE_TIMELINE/);
    expect((await cli('case', 'receipt', 'NO-SUCH-CASE', '--key', key('bank-a'))).code).toBe(1);
    // Case data needs a key; another bank is refused; the audit log shows who read the case.
    expect((await cli('case', 'show', id)).code).toBe(2);
    // --home signs with the node home's client key (what `jrchain init` writes).
    const home = join(dir, 'home-d');
    mkdirSync(home);
    copyFileSync(key('bank-d'), join(home, 'client.key'));
    expect(JSON.parse((await cli('case', 'show', id, '--json', '--home', home)).stdout).case.status).toBe(
      'closed',
    );
    expect((await cli('case', 'show', id, '--home', home, '--key', key('bank-d'))).code).toBe(2);
    const refused = await cli('case', 'show', id, '--key', key('bank-b'));
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/FORBIDDEN_NOT_PARTY/)]);
    const audit = JSON.parse((await cli('audit', '--case', id, '--json', '--key', key('bank-a'))).stdout);
    const readers = new Set(audit.entries.map((e: { institution: string }) => e.institution));
    expect(readers).toEqual(new Set(['bank-a', 'bank-c', 'bank-d']));
  });

  it('refuses bad flags before touching the node, and explains every command in --help', async () => {
    const bad = await cli('case', 'fail', 'X', '--reason', 'bored', '--key', key('bank-c'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--reason must be one of/);
    const both = await cli('case', 'open', 'X', '--respondent', 'bank-a', '--key', key('bank-a'));
    expect(both.code).toBe(2);
    const io = memoryIo();
    expect(await runCli(['case', '--help'], io)).toBe(0);
    for (const c of [
      'open',
      'assign',
      'session',
      'agree',
      'co-sign',
      'fail',
      'apply-confirmation',
      'confirm',
      'close',
      'show',
      'list',
    ])
      expect(io.stdout).toContain(c);
  });
});
