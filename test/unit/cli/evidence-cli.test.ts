import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { genesisToJson } from '../../../src/core/genesis.ts';
import { keyPairFromSeed, writeKeyFile } from '../../../src/core/keys.ts';
import { cli } from '../../helpers/cli-memory.ts';
import { type FakeNode, startFakeNode } from '../../helpers/fake-node.ts';
import { testGenesis } from '../../helpers/fixtures.ts';

const genesis = testGenesis();
const dir = mkdtempSync(join(tmpdir(), 'jrchain-evidence-cli-'));
const keyFile = join(dir, 'client.key');
const genesisFile = join(dir, 'genesis.json');
let node: FakeNode;

beforeAll(async () => {
  node = await startFakeNode(genesis, { autoCommit: true });
  writeKeyFile(keyFile, keyPairFromSeed(sha256(utf8.encode('jrchain-test-key:bank-b/client-1'))));
  writeFileSync(genesisFile, JSON.stringify(genesisToJson(genesis)));
  mkdirSync(join(dir, 'docs/sub'), { recursive: true });
  writeFileSync(join(dir, 'docs/contract.pdf'), 'loan contract 2025');
  writeFileSync(join(dir, 'docs/sub/call.mp3'), 'call recording');
  writeFileSync(join(dir, 'statement.pdf'), 'statement, January');
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('jrchain evidence', () => {
  it('submit hashes files locally, finds the institution from the key, waits for commit', async () => {
    const r = await cli(
      'evidence',
      'submit',
      join(dir, 'statement.pdf'),
      '--case',
      'CASE-77',
      '--type',
      'statement',
      '--label',
      'January statement',
      '--wait',
      '--key',
      keyFile,
      '--node',
      node.url,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ institution: 'bank-b', total: 1, recorded: 1, failed: 0 });
    expect(out.results[0].hash).toBe(Buffer.from(sha256(utf8.encode('statement, January'))).toString('hex'));
    expect(out.results[0].height).toBeGreaterThan(0);
  });

  it('submit is retry-safe: the same evidence is never recorded twice', async () => {
    const args = [
      'evidence',
      'submit',
      join(dir, 'statement.pdf'),
      '--case',
      'CASE-77',
      '--type',
      'statement',
    ];
    const again = await cli(...args, '--key', keyFile, '--node', node.url, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).summary).toMatchObject({ recorded: 0, alreadyRecorded: 1 });
    const show = await cli('evidence', 'show', join(dir, 'statement.pdf'), '--node', node.url, '--json');
    expect(JSON.parse(show.stdout).records).toHaveLength(1);
  });

  it('submit takes a directory, recursively, and prints a summary', async () => {
    const r = await cli(
      'evidence',
      'submit',
      join(dir, 'docs'),
      '--case',
      'CASE-77',
      '--type',
      'other',
      '--wait',
      '--key',
      keyFile,
      '--node',
      node.url,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recorded: .*contract\.pdf/);
    expect(r.stdout).toMatch(/recorded: .*call\.mp3/);
    expect(r.stdout).toMatch(/2 evidence: 2 recorded, 0 submitted, 0 already recorded, 0 failed/);
  });

  it('verify proves a recorded file offline against the genesis, and says since when', async () => {
    const r = await cli(
      'evidence',
      'verify',
      join(dir, 'statement.pdf'),
      '--genesis',
      genesisFile,
      '--node',
      node.url,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ok {3}certificate/);
    expect(r.stdout).toMatch(/PROVEN: .*statement\.pdf is recorded 1 time\(s\); earliest in block \d+ at 20/);
  });

  it('verify --at takes an ISO 8601 time; anything else is a usage error', async () => {
    const args = [
      'evidence',
      'verify',
      join(dir, 'statement.pdf'),
      '--genesis',
      genesisFile,
      '--node',
      node.url,
    ];
    const r = await cli(...args, '--at', '2026-07-01T00:00:00Z');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const bad = await cli(...args, '--at', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--at must be an ISO 8601 time/);
  });

  it('verify says NOT PROVEN and exits 1 for a file that was never recorded', async () => {
    const never = join(dir, 'never.txt');
    writeFileSync(never, 'never recorded');
    const r = await cli('evidence', 'verify', never, '--genesis', genesisFile, '--node', node.url);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/NOT PROVEN: .*never\.txt .* was never recorded/);
  });

  it("verify against another chain's genesis is not proven", async () => {
    const other = join(dir, 'other-genesis.json');
    writeFileSync(other, JSON.stringify(genesisToJson(testGenesis({ chainId: 'another-chain' }))));
    const r = await cli(
      'evidence',
      'verify',
      join(dir, 'statement.pdf'),
      '--genesis',
      other,
      '--node',
      node.url,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL genesis/);
  });

  it('receipt get writes a receipt that receipt verify accepts with the file', async () => {
    const out = join(dir, 'receipt.json');
    const g = await cli('receipt', 'get', join(dir, 'statement.pdf'), '--out', out, '--node', node.url);
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).format).toBe('jrchain-receipt/v4');
    const v = await cli(
      'receipt',
      'verify',
      out,
      '--genesis',
      genesisFile,
      '--file',
      join(dir, 'statement.pdf'),
    );
    expect(v.code).toBe(0);
  });

  it('case show lists the timeline in chain order', async () => {
    const r = await cli('case', 'show', 'CASE-77', '--node', node.url, '--json', '--key', keyFile);
    const records = JSON.parse(r.stdout).records;
    expect(records).toHaveLength(3);
    expect(records.map((x: { height: number }) => x.height)).toEqual(
      [...records.map((x: { height: number }) => x.height)].sort((a, b) => a - b),
    );
    const none = await cli('case', 'show', 'CASE-NONE', '--node', node.url, '--key', keyFile);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/no evidence recorded/);
  });

  it('status prints the chain, height and primary', async () => {
    const r = await cli('status', '--node', node.url);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/chain: +jrchain-test/);
    expect(r.stdout).toMatch(/primary bank-a/);
  });

  it.each<[string, string[], number, RegExp]>([
    ['an unknown evidence type', ['--type', 'photo'], 2, /--type must be one of/],
    [
      'a label with a card number',
      ['--type', 'other', '--label', 'card 6222021234567890'],
      2,
      /long digit run/,
    ],
    ['a bad case id', ['--type', 'other', '--case', 'case with spaces'], 2, /case id/],
  ])('submit refuses %s before contacting the node', async (_name, extra, code, message) => {
    const args = [
      'evidence',
      'submit',
      join(dir, 'statement.pdf'),
      '--case',
      'C-1',
      '--key',
      keyFile,
      '--node',
      'http://127.0.0.1:1',
    ];
    const r = await cli(...args, ...extra);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('a missing file, an unreachable node and an unregistered key give clear errors and exit codes', async () => {
    const base = ['--case', 'C-1', '--type', 'other', '--key', keyFile];
    const missing = await cli('evidence', 'submit', join(dir, 'nope.pdf'), ...base, '--node', node.url);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/FILE_UNREADABLE.*nope\.pdf/);
    const down = await cli(
      'evidence',
      'submit',
      join(dir, 'statement.pdf'),
      ...base,
      '--node',
      'http://127.0.0.1:1',
    );
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/NODE_UNREACHABLE/);
    const stranger = join(dir, 'stranger.key');
    writeKeyFile(stranger, keyPairFromSeed(sha256(utf8.encode('not registered'))));
    const r = await cli(
      'evidence',
      'submit',
      join(dir, 'statement.pdf'),
      '--case',
      'C-1',
      '--type',
      'other',
      '--key',
      stranger,
      '--node',
      node.url,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/KEY_NOT_REGISTERED/);
  });
});
