/** `jrchain tsa ...` driven in-process through runCli, with stdout and stderr captured. */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliIo, ExitCode } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { registerTsaCommands } from '../../../src/cli/tsa.ts';
import { der } from '../../../src/timestamp/asn1.ts';
import { readCrls } from '../../../src/timestamp/crl.ts';
import { openEmbeddedTsa } from '../../../src/timestamp/dir.ts';
import { encodeRejection } from '../../../src/timestamp/encode.ts';
import { TsaHttpServer } from '../../../src/timestamp/server.ts';
import type { EmbeddedTsa } from '../../../src/timestamp/tsa.ts';
import { buildToken, makePki, tempDir } from '../../helpers/tsa.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const capture = (sink: string[]) => (chunk: unknown) => {
    sink.push(String(chunk));
    return true;
  };
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(capture(out));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(capture(err));
  try {
    const code = await runCli(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

const data = 'repayment record 2026-05\n';
let tmp: { path: string; cleanup: () => Promise<void> };
let dir: string;
let tsa: EmbeddedTsa;
let server: TsaHttpServer;
const p = (name: string) => join(tmp.path, name);

beforeAll(async () => {
  tmp = await tempDir();
  dir = p('tsa');
  await writeFile(p('data.txt'), data);
  await writeFile(p('other.txt'), 'something else');
  await writeFile(p('garbage.tsr'), 'this is not DER');
  await writeFile(p('rejection.tsr'), encodeRejection('badAlg', 'no'));
  expect((await cli('tsa', 'init', '--dir', dir, '--org', 'Bank A')).code).toBe(0);
  tsa = await openEmbeddedTsa(dir);
  await tsa.start();
  server = new TsaHttpServer(tsa, { port: 0 });
  await server.start();
  const stamped = await cli('tsa', 'stamp', p('data.txt'), '--tsa', server.address.url, '--out', p('r.tsr'));
  expect(stamped.code).toBe(0);
});

afterAll(async () => {
  await server?.stop();
  await tsa?.stop();
  await tmp.cleanup();
});

describe('tsa --help', () => {
  it('lists the subcommands and explains each', async () => {
    const r = await cli('tsa', '--help');
    expect(r.code).toBe(0);
    for (const sub of ['init', 'crl', 'serve', 'stamp', 'verify', 'inspect']) expect(r.stdout).toContain(sub);
    const v = await cli('tsa', 'verify', '--help');
    expect(v.stdout.replace(/\s+/g, ' ')).toContain('Exit 0 valid, 1 invalid, 2 bad flags, 3 unreadable');
  });
});

describe('tsa init', () => {
  it('writes keys with mode 0600 and refuses to overwrite them without --force', async () => {
    expect((await stat(join(dir, 'tsa.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'root.key'))).mode & 0o777).toBe(0o600);
    const other = p('init2');
    expect((await cli('tsa', 'init', '--dir', other)).code).toBe(0);
    const before = await readFile(join(other, 'tsa.pem'), 'utf8');
    const again = await cli('tsa', 'init', '--dir', other);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('TSA_KEY_EXISTS');
    const forced = await cli('tsa', 'init', '--dir', other, '--force', '--json');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).tsaSubject).toBe('O=JRChain, CN=JRChain Embedded TSA');
    expect(await readFile(join(other, 'tsa.pem'), 'utf8')).not.toBe(before);
    expect((await stat(join(other, 'tsa.key'))).mode & 0o777).toBe(0o600);
  });
});

describe('tsa init --crypto-suite sm2-sm3', () => {
  it('makes an SM2 root and TSA whose tokens and CRL are signed SM2-with-SM3 and verify', async () => {
    const smDir = p('sm2');
    const r = await cli('tsa', 'init', '--dir', smDir, '--crypto-suite', 'sm2-sm3', '--org', 'Bank SM');
    expect(r.code, r.stderr).toBe(0);
    const smTsa = await openEmbeddedTsa(smDir);
    await smTsa.start();
    const smServer = new TsaHttpServer(smTsa, { port: 0 });
    await smServer.start();
    try {
      const out = p('sm2.tsr');
      const stamped = await cli('tsa', 'stamp', p('data.txt'), '--tsa', smServer.address.url, '--out', out);
      expect(stamped.code, stamped.stderr).toBe(0);
      const v = await cli('tsa', 'verify', out, '--file', p('data.txt'), '--ca', join(smDir, 'root.pem'));
      expect(v.code, v.stdout).toBe(0);
      expect(v.stdout).toMatch(/ok +signature +SM2-with-SM3/);
      // The P-256 root of another TSA does not anchor it.
      const other = await cli('tsa', 'verify', out, '--file', p('data.txt'), '--ca', join(dir, 'root.pem'));
      expect(other.code).toBe(1);
    } finally {
      await smServer.stop();
      await smTsa.stop();
    }
    const crl = await cli('tsa', 'crl', '--dir', smDir);
    expect(crl.code, crl.stderr).toBe(0);
    expect(readCrls(await readFile(join(smDir, 'root.crl')), 'root.crl')[0]!.issuer).toBe(
      'O=Bank SM, CN=Bank SM Time-Stamping Root CA',
    );
    expect((await cli('tsa', 'init', '--dir', p('sm-bad'), '--crypto-suite', 'sm9')).code).toBe(2);
  });
});

describe('tsa crl', () => {
  it("issues the root's CRL for the embedded TSA; a directory without a TSA is a config error", async () => {
    const r = await cli('tsa', 'crl', '--dir', dir, '--days', '10');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^wrote the CRL of O=Bank A, CN=Bank A Time-Stamping Root CA to .*root\.crl \(next update /,
    );
    const [crl] = readCrls(await readFile(join(dir, 'root.crl')), 'root.crl');
    expect(crl!.issuer).toBe('O=Bank A, CN=Bank A Time-Stamping Root CA');
    expect(crl!.nextUpdate!.getTime() - crl!.thisUpdate.getTime()).toBe(10 * 86_400_000);
    const none = await cli('tsa', 'crl', '--dir', p('nowhere'), '-o', p('x.crl'));
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('TSA_BAD_CONFIG');
  });
});

describe('tsa init and serve refusals', () => {
  it('will not replace the keys of a TSA that is running, even with --force', async () => {
    const r = await cli('tsa', 'init', '--dir', dir, '--force');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TSA_DIR_LOCKED');
  });

  it('checks serve flags before starting anything', async () => {
    expect((await cli('tsa', 'serve', '--dir', dir, '--port', '0', '--accept-policy', 'x.y')).code).toBe(2);
    expect((await cli('tsa', 'serve', '--dir', dir, '--port', '70000')).code).toBe(2);
    expect((await cli('tsa', 'serve', '--port', '0')).code).toBe(2);
  });
});

describe('tsa stamp', () => {
  it('writes a response, or with --token a bare token, verified with --ca', async () => {
    const r = await cli(
      'tsa',
      'stamp',
      p('data.txt'),
      '--tsa',
      server.address.url,
      '--out',
      p('t.der'),
      '--token',
      '--ca',
      join(dir, 'root.pem'),
      '--json',
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ written: 'token', verified: 'full', hashAlg: 'sha256' });
    expect(summary.digest).toBe(createHash('sha256').update(data).digest('hex'));
    const v = await cli('tsa', 'verify', p('t.der'), '--file', p('data.txt'), '--ca', join(dir, 'root.pem'));
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('(bare token)');
  });

  it('stamps a digest, taking its algorithm from its length', async () => {
    const hex = createHash('sha384').update(data).digest('hex');
    const r = await cli(
      'tsa',
      'stamp',
      '--digest',
      hex,
      '--tsa',
      server.address.url,
      '--out',
      p('d.tsr'),
      '--json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).hashAlg).toBe('sha384');
    const v = await cli('tsa', 'verify', p('d.tsr'), '--digest', hex, '--ca', join(dir, 'root.pem'));
    expect(v.code).toBe(0);
  });

  it('exits 2 for bad flags and 4 when the TSA cannot be reached', async () => {
    const url = server.address.url;
    expect((await cli('tsa', 'stamp', '--tsa', url, '--out', p('x'))).code).toBe(2);
    expect((await cli('tsa', 'stamp', '--digest', 'zz', '--tsa', url, '--out', p('x'))).code).toBe(2);
    const sha256 = '00'.repeat(32);
    const mismatch = await cli(
      'tsa',
      'stamp',
      '--digest',
      sha256,
      '--alg',
      'sha512',
      '--tsa',
      url,
      '--out',
      p('x'),
    );
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/length of sha256/);
    expect(
      (await cli('tsa', 'stamp', p('data.txt'), '--alg', 'md5', '--tsa', url, '--out', p('x'))).code,
    ).toBe(2);
    const closed = await cli(
      'tsa',
      'stamp',
      p('data.txt'),
      '--tsa',
      'http://127.0.0.1:1/',
      '--out',
      p('x'),
      '--retries',
      '0',
    );
    expect(closed.code).toBe(4);
    expect(closed.stderr).toContain('TSA_HTTP_ERROR');
    expect((await cli('tsa', 'stamp', p('missing.txt'), '--tsa', url, '--out', p('x'))).code).toBe(3);
    const unwritable = await cli(
      'tsa',
      'stamp',
      p('data.txt'),
      '--tsa',
      url,
      '--out',
      p('no/such/dir/r.tsr'),
    );
    expect(unwritable.code).toBe(3);
    expect(unwritable.stderr).toMatch(/cannot write .*ENOENT/);
  });
});

describe('tsa verify', () => {
  const ca = () => join(dir, 'root.pem');

  it('prints every check and exits 0 for a valid token', async () => {
    const r = await cli('tsa', 'verify', p('r.tsr'), '--file', p('data.txt'), '--ca', ca());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(TimeStampResp)');
    expect(r.stdout).toMatch(/ok +signature +ecdsa-with-SHA256/);
    expect(r.stdout).toMatch(/skip nonce/);
    expect(r.stdout).toMatch(/^VALID: genTime \d{4}-\d\d-\d\dT[\d:.]+Z, serial 01/m);
  });

  it('exits 1 naming the failed check when the token does not hold', async () => {
    const wrongData = await cli('tsa', 'verify', p('r.tsr'), '--file', p('other.txt'), '--ca', ca());
    expect(wrongData.code).toBe(1);
    expect(wrongData.stdout).toMatch(/FAIL messageImprint/);
    expect(wrongData.stdout).toMatch(/^INVALID: messageImprint/m);
    await cli('tsa', 'init', '--dir', p('stranger'));
    const wrongCa = await cli(
      'tsa',
      'verify',
      p('r.tsr'),
      '--file',
      p('data.txt'),
      '--ca',
      join(p('stranger'), 'root.pem'),
      '--json',
    );
    expect(wrongCa.code).toBe(1);
    expect(JSON.parse(wrongCa.stdout)).toMatchObject({ ok: false, failedCheck: 'chain' });
    const rejected = await cli('tsa', 'verify', p('rejection.tsr'), '--file', p('data.txt'), '--ca', ca());
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toMatch(/FAIL status/);
  });

  it('exits 1 naming tsaName for a token whose TSA name is malformed (not 4, as if the TSA were down)', async () => {
    const pki = await makePki();
    const digestHex = createHash('sha256').update(data).digest('hex');
    const malformedName = der.explicit(4, der.octets(Uint8Array.of(1, 2, 3)));
    const token = buildToken(pki, { digest: Buffer.from(digestHex, 'hex'), tsaName: malformedName });
    await writeFile(p('bad-name.tst'), token);
    await writeFile(p('pki-root.pem'), pki.rootPem);
    const r = await cli('tsa', 'verify', p('bad-name.tst'), '--digest', digestHex, '--ca', p('pki-root.pem'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAIL tsaName +tsa field is not a well-formed GeneralName/);
    expect(r.stdout).toMatch(/^INVALID: tsaName/m);
  });

  it('gives JSON with the token facts', async () => {
    const r = await cli('tsa', 'verify', p('r.tsr'), '--file', p('data.txt'), '--ca', ca(), '--json');
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      ok: true,
      serial: '01',
      hashAlg: 'sha256',
      signerSubject: 'O=Bank A, CN=Bank A Embedded TSA',
    });
    expect(j.checksPassed).toContain('certValidity');
  });

  it('exits 3 for unreadable or undecodable files', async () => {
    expect((await cli('tsa', 'verify', p('missing.tsr'), '--file', p('data.txt'), '--ca', ca())).code).toBe(
      3,
    );
    const garbage = await cli('tsa', 'verify', p('garbage.tsr'), '--file', p('data.txt'), '--ca', ca());
    expect(garbage.code).toBe(3);
    expect(garbage.stdout).toMatch(/FAIL decode/);
    expect(
      (await cli('tsa', 'verify', p('r.tsr'), '--file', p('data.txt'), '--ca', p('data.txt'))).code,
    ).toBe(3);
    expect((await cli('tsa', 'verify', p('r.tsr'), '--file', p('missing.txt'), '--ca', ca())).code).toBe(3);
  });

  it('exits 2 for bad flags', async () => {
    expect((await cli('tsa', 'verify', p('r.tsr'), '--file', p('data.txt'))).code).toBe(2);
    expect((await cli('tsa', 'verify', p('r.tsr'), '--ca', ca())).code).toBe(2);
    expect((await cli('tsa', 'verify', p('r.tsr'), '--ca', ca(), '--digest', 'abc')).code).toBe(2);
    const both = await cli(
      'tsa',
      'verify',
      p('r.tsr'),
      '--ca',
      ca(),
      '--file',
      p('data.txt'),
      '--digest',
      '00'.repeat(32),
    );
    expect(both.code).toBe(2);
    expect(
      (
        await cli(
          'tsa',
          'verify',
          p('r.tsr'),
          '--ca',
          ca(),
          '--policy',
          'not-an-oid',
          '--file',
          p('data.txt'),
        )
      ).code,
    ).toBe(2);
    expect((await cli('tsa', 'verify', p('r.tsr'), '--ca', ca(), '--bogus')).code).toBe(2);
  });
});

describe('tsa inspect', () => {
  it('dumps a response for people and for scripts', async () => {
    const r = await cli('tsa', 'inspect', p('r.tsr'));
    expect(r.code).toBe(0);
    for (const field of [
      'status:      granted',
      'policy:',
      'serial:      01',
      'genTime:',
      'accuracy:    1s',
      'nonce:',
      'imprint:     sha256',
      'tsa:         O=Bank A, CN=Bank A Embedded TSA',
      'signer:',
      'certificates: 1',
    ]) {
      expect(r.stdout).toContain(field);
    }
    const j = JSON.parse((await cli('tsa', 'inspect', p('r.tsr'), '--json')).stdout);
    expect(j).toMatchObject({
      kind: 'response',
      status: { status: 'granted' },
      token: { serial: '01', imprint: { hashAlg: 'sha256' } },
    });
  });

  it('shows a rejection, and exits 3 for garbage', async () => {
    const r = await cli('tsa', 'inspect', p('rejection.tsr'));
    expect(r.stdout).toContain('failInfo:    badAlg');
    expect((await cli('tsa', 'inspect', p('garbage.tsr'))).code).toBe(3);
  });
});

describe('registerTsaCommands with an injected io', () => {
  it('writes through the io object and reports exit codes to it, not to the process', async () => {
    const seen = { stdout: '', stderr: '', codes: [] as ExitCode[] };
    const io: CliIo = {
      out: (t) => {
        seen.stdout += t;
      },
      err: (t) => {
        seen.stderr += t;
      },
      setExit: (c) => void seen.codes.push(c),
      exitCode: () => seen.codes.at(-1) ?? 0,
    };
    const program = new Command('jrchain').exitOverride();
    registerTsaCommands(program, io);
    const ca = join(dir, 'root.pem');
    await program.parseAsync(['tsa', 'verify', p('r.tsr'), '--file', p('other.txt'), '--ca', ca], {
      from: 'user',
    });
    await program.parseAsync(['tsa', 'inspect', p('missing.tsr')], { from: 'user' });
    expect(seen.codes).toEqual([1, 3]);
    expect(seen.stdout).toMatch(/^INVALID: messageImprint/m);
    expect(seen.stderr).toContain('cannot read token');
    expect(process.exitCode).toBeUndefined();
  });
});
