import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRevocation } from '../../../src/node/api-tls.ts';
import {
  CONFIG_FORMAT,
  ConfigError,
  configToJson,
  defaultConfig,
  envOverrides,
  loadConfig,
  parseConfig,
  resolveHomePath,
} from '../../../src/node/config.ts';
import { issueCrl } from '../../../src/timestamp/certs.ts';
import { DAY, makePki, type Pki, T0 } from '../../helpers/tsa.ts';

const home = mkdtempSync(join(tmpdir(), 'jrchain-config-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});

function write(doc: unknown) {
  writeFileSync(join(home, 'config.json'), JSON.stringify(doc));
}

describe('node config', () => {
  it('defaults: API on loopback, anchoring and renewal off, JSON logs', () => {
    const c = parseConfig(home, { format: CONFIG_FORMAT, institution: 'bank-a' });
    expect(c.api.host).toBe('127.0.0.1');
    expect(c.tsa.url).toBeUndefined();
    expect(c.tsa.renewal).toBeUndefined();
    expect(c.log).toEqual({ level: 'info', format: 'json' });
    expect(resolveHomePath(c, c.dataDir)).toBe(join(home, 'data'));
    expect(resolveHomePath(c, '/abs/key')).toBe('/abs/key');
  });

  it('round-trips through its JSON form', () => {
    const c = defaultConfig(home, 'bank-b');
    c.tsa.url = 'http://127.0.0.1:8300';
    c.p2p.peers = { '12D3KooWabc': ['/ip4/127.0.0.1/tcp/7000'] };
    expect(parseConfig(home, JSON.parse(JSON.stringify(configToJson(c))))).toEqual(c);
    c.tsa.renewal = { beforeExpiryMs: 86_400_000, maxAgeMs: 600_000, deprecatedAlgorithms: ['sha1'] };
    expect(parseConfig(home, JSON.parse(JSON.stringify(configToJson(c)))).tsa.renewal).toEqual(c.tsa.renewal);
    c.tsa.crlFiles = ['tsa/root.crl', '/etc/tsa/ca.crl'];
    expect(parseConfig(home, JSON.parse(JSON.stringify(configToJson(c)))).tsa.crlFiles).toEqual(
      c.tsa.crlFiles,
    );
  });

  it('reads the CRL files at start, relative to the home; a missing or foreign file is a config error', () => {
    const crl = issueCrl({
      issuer: pki.root,
      signingKey: pki.rootKey,
      thisUpdate: new Date(T0),
      nextUpdate: new Date(T0 + DAY),
      number: 1n,
    });
    writeFileSync(join(home, 'root.crl'), crl);
    const c = defaultConfig(home, 'bank-a');
    expect(loadRevocation(c)).toEqual({ crls: [] });
    c.tsa.crlFiles = ['root.crl'];
    expect(loadRevocation(c)).toEqual({ crls: [crl] });
    c.tsa.crlFiles = ['absent.crl'];
    expect(() => loadRevocation(c)).toThrow(/cannot read the CRL file .*absent\.crl \(ENOENT\)/);
    writeFileSync(join(home, 'root.pem'), pki.rootPem);
    c.tsa.crlFiles = ['root.pem'];
    expect(() => loadRevocation(c)).toThrow(/root\.pem: no X509 CRL found/);
  });

  it('file < environment < flags', () => {
    write({ format: CONFIG_FORMAT, institution: 'bank-a', api: { port: 8101 }, log: { level: 'warn' } });
    expect(loadConfig(home, {}, {}).api.port).toBe(8101);
    const env = { JRCHAIN_API_PORT: '8102', JRCHAIN_LOG_LEVEL: 'debug' };
    expect(loadConfig(home, {}, env).api.port).toBe(8102);
    expect(loadConfig(home, {}, env).log.level).toBe('debug');
    expect(loadConfig(home, { apiPort: 8103 }, env).api.port).toBe(8103);
  });

  it.each<[string, unknown, RegExp]>([
    ['a wrong format', { format: 'x', institution: 'a' }, /format/],
    ['a missing institution', { format: CONFIG_FORMAT }, /institution is required/],
    [
      'an unknown setting',
      { format: CONFIG_FORMAT, institution: 'a', apii: {} },
      /config\.apii is not a known/,
    ],
    [
      'an unknown nested setting',
      { format: CONFIG_FORMAT, institution: 'a', api: { prot: 1 } },
      /config\.api\.prot/,
    ],
    ['a bad port', { format: CONFIG_FORMAT, institution: 'a', api: { port: 70000 } }, /port/],
    ['a bad log level', { format: CONFIG_FORMAT, institution: 'a', log: { level: 'loud' } }, /log\.level/],
    ['a bad TSA URL', { format: CONFIG_FORMAT, institution: 'a', tsa: { url: 'ftp://x' } }, /tsa\.url/],
    [
      'a zero anchor interval',
      { format: CONFIG_FORMAT, institution: 'a', tsa: { anchorIntervalMs: 0 } },
      /anchorIntervalMs/,
    ],
    [
      'CRL files that are not a list of paths',
      { format: CONFIG_FORMAT, institution: 'a', tsa: { crlFiles: 'root.crl' } },
      /tsa\.crlFiles must be a list/,
    ],
    [
      'an empty CRL file path',
      { format: CONFIG_FORMAT, institution: 'a', tsa: { crlFiles: [''] } },
      /tsa\.crlFiles\[0\] must be a path/,
    ],
    [
      'a renewal policy without its margin',
      { format: CONFIG_FORMAT, institution: 'a', tsa: { renewal: { maxAgeMs: 1000 } } },
      /renewal\.beforeExpiryMs/,
    ],
    [
      'deprecated algorithms that are not a list of names',
      {
        format: CONFIG_FORMAT,
        institution: 'a',
        tsa: { renewal: { beforeExpiryMs: 1, deprecatedAlgorithms: 'sha1' } },
      },
      /deprecatedAlgorithms/,
    ],
  ])('rejects %s', (_name, doc, message) => {
    expect(() => parseConfig(home, doc)).toThrow(ConfigError);
    expect(() => parseConfig(home, doc)).toThrow(message);
  });

  it('rejects bad environment values by variable name', () => {
    expect(() => envOverrides({ JRCHAIN_API_PORT: 'eighty' })).toThrow(/JRCHAIN_API_PORT/);
    expect(() => envOverrides({ JRCHAIN_LOG_FORMAT: 'xml' })).toThrow(/JRCHAIN_LOG_FORMAT/);
  });

  it('a missing or broken file names the fix', () => {
    const empty = mkdtempSync(join(tmpdir(), 'jrchain-config-empty-'));
    try {
      expect(() => loadConfig(empty)).toThrow(/jrchain init --home/);
      writeFileSync(join(empty, 'config.json'), '{');
      expect(() => loadConfig(empty)).toThrow(/not valid JSON/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
