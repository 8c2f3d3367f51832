import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadApiTls } from '../../../src/node/api-tls.ts';
import { CONFIG_FORMAT, parseConfig } from '../../../src/node/config.ts';
import { codeOf } from '../../helpers/errors.ts';

const home = mkdtempSync(join(tmpdir(), 'jrchain-apitls-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const config = (api: unknown) => parseConfig(home, { format: CONFIG_FORMAT, institution: 'bank-a', api });

describe('config.api.tls', () => {
  it('names a certificate and key read relative to the home', () => {
    writeFileSync(join(home, 'cert.pem'), 'CERT');
    writeFileSync(join(home, 'key.pem'), 'KEY', { mode: 0o600 });
    const c = config({ tls: { cert: 'cert.pem', key: 'key.pem' } });
    expect(loadApiTls(c)).toEqual({ cert: 'CERT', key: 'KEY' });
    expect(loadApiTls(config({}))).toBeUndefined();
  });

  it('is refused when incomplete or with unknown fields', () => {
    expect(codeOf(() => config({ tls: { cert: 'cert.pem' } }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => config({ tls: { cert: 'c', key: 'k', ca: 'x' } }))).toBe('CONFIG_INVALID');
  });

  it('refuses a key others can read, and a missing file, with NODE_CONFIG', () => {
    writeFileSync(join(home, 'open-key.pem'), 'KEY');
    chmodSync(join(home, 'open-key.pem'), 0o644);
    expect(codeOf(() => loadApiTls(config({ tls: { cert: 'cert.pem', key: 'open-key.pem' } })))).toBe(
      'NODE_CONFIG',
    );
    expect(codeOf(() => loadApiTls(config({ tls: { cert: 'absent.pem', key: 'key.pem' } })))).toBe(
      'NODE_CONFIG',
    );
  });
});
