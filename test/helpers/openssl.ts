/** OpenSSL as an independent RFC 3161 peer: a CA, a TSA (`openssl ts -reply`) and a verifier. */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function openssl(args: string[], cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile('openssl', args, { cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(args: string[], cwd: string): Promise<string> {
  const r = await openssl(args, cwd);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export const OPENSSL_POLICY = '1.2.3.4.1';
export const OPENSSL_OTHER_POLICY = '1.2.3.4.5';

export interface OpensslTsa {
  dir: string;
  caPem: string;
  tsaPem: string;
  /** `openssl ts -reply` for a DER request. Calls are serialised: OpenSSL's serial file has no lock. */
  reply(query: Uint8Array, section?: 'tsa_ess_v1' | 'tsa_ess_v2'): Promise<Uint8Array>;
}

/** openssl x509 -extfile sections for a CA (`ca_ext`) and a TSA certificate it issues (`tsa_ext`). */
export const CA_TSA_EXTENSIONS = [
  '[ca_ext]',
  'basicConstraints = critical,CA:TRUE',
  'keyUsage = critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier = hash',
  '[tsa_ext]',
  'extendedKeyUsage = critical,timeStamping',
  'keyUsage = critical,digitalSignature',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
  '',
].join('\n');

/**
 * A P-256 CA and TSA certificate made by OpenSSL itself (extendedKeyUsage=critical,timeStamping), with a
 * `[tsa]` configuration: sha256/384/512, millisecond precision, accuracy 1.5 s, tsa_name. Section
 * tsa_ess_v1 signs ESS signingCertificate (SHA-1), tsa_ess_v2 signingCertificateV2 (SHA-256). `keys`
 * (`openssl genpkey` arguments) choose other key types for the CA and the TSA.
 */
export async function makeOpensslTsa(
  dir: string,
  keys: { ca?: readonly string[]; tsa?: readonly string[] } = {},
): Promise<OpensslTsa> {
  await writeFile(join(dir, 'ext.cnf'), CA_TSA_EXTENSIONS);
  const tsaSection = (name: string, essAlg: string) => [
    `[${name}]`,
    `dir = ${dir}`,
    'serial = $dir/tsaserial',
    'crypto_device = builtin',
    'signer_cert = $dir/tsa.pem',
    'signer_key = $dir/tsa.key',
    'signer_digest = sha256',
    `default_policy = ${OPENSSL_POLICY}`,
    `other_policies = ${OPENSSL_OTHER_POLICY}`,
    'digests = sha256, sha384, sha512',
    'accuracy = secs:1, millisecs:500',
    'clock_precision_digits = 3',
    'ordering = no',
    'tsa_name = yes',
    'ess_cert_id_chain = no',
    `ess_cert_id_alg = ${essAlg}`,
  ];
  await writeFile(
    join(dir, 'tsa.cnf'),
    [
      '[tsa]',
      'default_tsa = tsa_ess_v1',
      ...tsaSection('tsa_ess_v1', 'sha1'),
      ...tsaSection('tsa_ess_v2', 'sha256'),
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'tsaserial'), '01\n');
  const p256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  await must(['genpkey', ...(keys.ca ?? p256), '-out', 'ca.key'], dir);
  await must(['genpkey', ...(keys.tsa ?? p256), '-out', 'tsa.key'], dir);
  const subj = (cn: string) => ['-subj', `/O=OpenSSL Interop/CN=${cn}`];
  await must(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      ...subj('OpenSSL Root'),
      '-days',
      '3650',
      '-config',
      'ext.cnf',
      '-extensions',
      'ca_ext',
      '-out',
      'ca.pem',
    ],
    dir,
  );
  await must(['req', '-new', '-key', 'tsa.key', ...subj('OpenSSL TSA'), '-out', 'tsa.csr'], dir);
  await must(
    [
      'x509',
      '-req',
      '-in',
      'tsa.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      '0x1234',
      '-days',
      '365',
      '-extfile',
      'ext.cnf',
      '-extensions',
      'tsa_ext',
      '-out',
      'tsa.pem',
    ],
    dir,
  );
  let queue: Promise<unknown> = Promise.resolve();
  let n = 0;
  const reply = (query: Uint8Array, section?: string) => {
    const job = queue.then(async () => {
      const id = n++;
      await writeFile(join(dir, `q${id}.tsq`), query);
      const args = ['ts', '-reply', '-config', 'tsa.cnf', '-queryfile', `q${id}.tsq`, '-out', `r${id}.tsr`];
      if (section) args.push('-section', section);
      await must(args, dir);
      return new Uint8Array(await readFile(join(dir, `r${id}.tsr`)));
    });
    queue = job.catch(() => undefined);
    return job;
  };
  return {
    dir,
    caPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
    tsaPem: await readFile(join(dir, 'tsa.pem'), 'utf8'),
    reply,
  };
}

/** `openssl ts -verify ...`: true only for "Verification: OK". */
export async function opensslVerifies(args: string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  const r = await openssl(['ts', '-verify', ...args], cwd);
  const output = r.stdout + r.stderr;
  return { ok: r.code === 0 && /Verification: OK/.test(output), output };
}
