/**
 * `jrchain tsa ...`: create and run the embedded TSA, request tokens from any RFC 3161 TSA, and verify or
 * inspect tokens. Output and exit codes go through the CLI's shared io; errors exit by their code's table.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { toHex, tryFromHex } from '../core/bytes.ts';
import { bigHex } from '../timestamp/asn1.ts';
import { HttpTsaClient } from '../timestamp/client.ts';
import { initTsaDir, issueTsaCrl, openEmbeddedTsa, TsaFiles } from '../timestamp/dir.ts';
import { isTimestampError, TimestampErrorCode } from '../timestamp/errors.ts';
import { describeTimestamp, type TimestampDescription } from '../timestamp/inspect.ts';
import { DEFAULT_TSA_POLICY, digestOf, type HashAlg, HashAlgs, isHashAlg } from '../timestamp/oids.ts';
import { TsaHttpServer } from '../timestamp/server.ts';
import type { VerifyResult } from '../timestamp/verify.ts';
import { verifyTimestamp } from '../timestamp/verify-node.ts';
import { type Cert, parsePemCertificates } from '../timestamp/x509.ts';
import { CliError, CliErrorCode, type CliIo, ExitCode, reportError } from './io.ts';

type Out = (line: string) => void;

// ---- option parsers (a bad value is a usage error, exit 2) ----

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535)
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
}

function parseOid(v: string): string {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(v))
    throw new InvalidArgumentError('expected a dotted OID such as 1.2.3.4');
  return v;
}

function parseDigestHex(v: string): Uint8Array {
  const bytes = tryFromHex(v);
  if (!bytes || !Object.values(HashAlgs).some((a) => a.length === bytes.length)) {
    throw new InvalidArgumentError(
      'expected the hex of a SHA-256, SHA-384 or SHA-512 digest (64, 96 or 128 hex digits)',
    );
  }
  return bytes;
}

function parseNonNegative(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a whole number');
  return Number(v);
}

const algOption = () =>
  new Option('--alg <alg>', 'digest algorithm').choices(Object.keys(HashAlgs)).default('sha256' as HashAlg);

// ---- helpers ----

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new CliError(
      CliErrorCode.fileUnreadable,
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

async function readCerts(path: string, what: string): Promise<Cert[]> {
  const bytes = await readInput(path, what);
  try {
    return parsePemCertificates(Buffer.from(bytes).toString('utf8'), `${what} ${path}`);
  } catch (err) {
    if (!isTimestampError(err)) throw err;
    throw new CliError(CliErrorCode.fileInvalid, err.message);
  }
}

function printJson(out: Out, value: unknown): void {
  out(
    JSON.stringify(
      value,
      (_k, v) => {
        if (typeof v === 'bigint') return bigHex(v);
        if (v instanceof Uint8Array) return toHex(v);
        return v;
      },
      2,
    ),
  );
}

/** A file-system failure (EACCES, ENOSPC, ...) from node:fs: the user's files, not a bug. */
function isFsError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return (
    e instanceof Error &&
    typeof e.code === 'string' &&
    /^E[A-Z]+$/.test(e.code) &&
    typeof e.syscall === 'string'
  );
}

/**
 * Runs a command body and reports its outcome through `io`: the exit code it returns, or its error on stderr
 * with the exit code of the error's code (a TSA that is down exits 4, an unreadable file 3, ...).
 */
function action<A extends unknown[]>(
  io: CliIo,
  body: (...args: A) => Promise<ExitCode>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      io.setExit(await body(...args));
    } catch (err) {
      const reported = isFsError(err) ? new CliError(CliErrorCode.fileSystem, err.message) : err;
      if (!reportError(io, reported)) throw err;
    }
  };
}

// ---- commands ----

export function registerTsaCommands(program: Command, io: CliIo): void {
  const out: Out = (line) => io.out(`${line}\n`);
  const tsa = program
    .command('tsa')
    .description(
      'RFC 3161 trusted time: run the embedded TSA, request, verify and inspect time-stamp tokens',
    );
  registerInit(tsa, io, out);
  registerCrl(tsa, io, out);
  registerServe(tsa, io, out);
  registerStamp(tsa, io, out);
  registerVerify(tsa, io, out);
  registerInspect(tsa, io, out);
}

interface InitOptions {
  dir: string;
  org: string;
  force?: boolean;
  cryptoSuite?: 'ed25519-sha256' | 'sm2-sm3';
  json?: boolean;
}

function registerInit(tsa: Command, io: CliIo, out: Out): void {
  tsa
    .command('init')
    .summary('create an embedded TSA (root CA + TSA certificate) in a directory')
    .description(
      'Create an embedded TSA in a directory: an ECDSA P-256 root CA (root.pem, the trust anchor verifiers ' +
        'configure) and a TSA certificate under it (tsa.pem, critical extendedKeyUsage timeStamping only); ' +
        'with --crypto-suite sm2-sm3 both keys are SM2 and the TSA signs its tokens SM2-with-SM3. ' +
        'Private keys are written with mode 0600; existing keys are kept unless --force.',
    )
    .requiredOption('--dir <dir>', 'directory to create the TSA in')
    .option('--org <name>', 'organisation name used in the certificate subjects', 'JRChain')
    .option('--force', 'replace existing keys and certificates (serial state is kept)')
    .addOption(
      new Option(
        '--crypto-suite <suite>',
        'key algorithms: ed25519-sha256 gives ECDSA P-256 (default), sm2-sm3 gives SM2 (ADR 014)',
      ).choices(['ed25519-sha256', 'sm2-sm3']),
    )
    .option('--json', 'print the result as JSON')
    .action(
      action(io, async (o: InitOptions) => {
        const r = await initTsaDir(o.dir, {
          organization: o.org,
          now: new Date(),
          force: o.force === true,
          ...(o.cryptoSuite === 'sm2-sm3' ? { keyAlgorithm: 'sm2' as const } : {}),
        });
        if (o.json) printJson(out, r);
        else {
          out(`created embedded TSA in ${r.dir}`);
          out(`  TSA certificate: ${r.tsaSubject}`);
          out(`  root CA:         ${r.rootSubject}`);
          out(`trust anchor for verifiers: ${r.dir}/${TsaFiles.rootCert}`);
        }
        return ExitCode.ok;
      }),
    );
}

function registerCrl(tsa: Command, io: CliIo, out: Out): void {
  tsa
    .command('crl')
    .summary("issue the embedded TSA root's CRL (revocation data for evidence records)")
    .description(
      "Issue a CRL (RFC 5280) signed by the embedded TSA's root, revoking nothing, and write it as PEM " +
        '(default: root.crl in the TSA directory). Point the node config at it (tsa.crlFiles) and evidence ' +
        'records carry it in cryptoInfos, so a verifier can later check the TSA certificate was not revoked ' +
        '(docs/long-term.md). Issue a new one before nextUpdate.',
    )
    .requiredOption('--dir <dir>', 'the embedded TSA directory (jrchain tsa init)')
    .option('--days <n>', 'validity: nextUpdate is this many days from now', parseNonNegative, 30)
    .option('-o, --out <file>', 'where to write the CRL (PEM)')
    .action(
      action(io, async (o: { dir: string; days: number; out?: string }) => {
        const r = await issueTsaCrl(o.dir, {
          now: new Date(),
          days: o.days,
          ...(o.out !== undefined ? { out: o.out } : {}),
        });
        out(`wrote the CRL of ${r.issuer} to ${r.file} (next update ${r.nextUpdate.toISOString()})`);
        return ExitCode.ok;
      }),
    );
}

interface ServeOptions {
  dir: string;
  port: number;
  host: string;
  policy: string;
  acceptPolicy?: string[];
  accuracyMs: number;
}

function registerServe(tsa: Command, io: CliIo, out: Out): void {
  tsa
    .command('serve')
    .summary('run the embedded TSA as an RFC 3161 HTTP server')
    .description(
      'Answer RFC 3161 requests over HTTP (POST application/timestamp-query to /). Prints one line ' +
        '"listening <url>" on stdout once bound, logs JSON lines to stderr, and stops cleanly on SIGINT or SIGTERM.',
    )
    .requiredOption('--dir <dir>', 'TSA directory made by `tsa init`')
    .requiredOption('--port <port>', 'TCP port; 0 picks a free one', parsePort)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--policy <oid>', 'policy OID put in tokens', parseOid, DEFAULT_TSA_POLICY)
    .option(
      '--accept-policy <oid...>',
      'further policy OIDs a request may ask for',
      (v: string, prev: string[] = []) => [...prev, parseOid(v)],
    )
    .option('--accuracy-ms <ms>', 'accuracy claimed in tokens (0 omits it)', parseNonNegative, 1000)
    .action(action(io, (o: ServeOptions) => serve(o, io, out)));
}

async function serve(o: ServeOptions, io: CliIo, out: Out): Promise<ExitCode> {
  const tsaService = await openEmbeddedTsa(o.dir, {
    policy: o.policy,
    acceptedPolicies: [o.policy, ...(o.acceptPolicy ?? [])],
    accuracyMs: o.accuracyMs,
  });
  const logger = pino({ name: 'jrchain-tsa' }, pino.destination(2));
  await tsaService.start();
  const server = new TsaHttpServer(tsaService, { host: o.host, port: o.port, logger });
  try {
    await server.start();
  } catch (err) {
    await tsaService.stop();
    io.err(`error: cannot listen on ${o.host}:${o.port}: ${(err as Error).message}\n`);
    return ExitCode.unavailable;
  }
  out(`listening ${server.address.url}`);
  const signal = await new Promise<string>((resolve) => {
    const onSignal = (s: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  logger.info({ signal }, 'stopping');
  await server.stop();
  await tsaService.stop();
  return ExitCode.ok;
}

interface StampOptions {
  digest?: Uint8Array;
  tsa: string;
  out: string;
  alg: HashAlg;
  policy?: string;
  nonce: boolean;
  certReq: boolean;
  token?: boolean;
  ca?: string;
  untrusted?: string;
  timeoutMs: number;
  retries: number;
  json?: boolean;
}

function registerStamp(tsa: Command, io: CliIo, out: Out): void {
  tsa
    .command('stamp')
    .summary('get a time-stamp token for a file or digest from a TSA')
    .description(
      'Get a time-stamp token for FILE (hashed here, never sent) or for --digest from an RFC 3161 TSA, and ' +
        'write the TimeStampResp to --out (the bare token with --token). The answer is always checked against ' +
        'the request (imprint, nonce, policy); with --ca it is also verified fully. Exit 0 written, 1 the ' +
        'token failed verification, 2 bad flags, 3 unreadable files, 4 the TSA failed or refused.',
    )
    .argument('[file]', 'file to time-stamp')
    .addOption(
      new Option('--digest <hex>', 'digest to time-stamp instead of a file').argParser(parseDigestHex),
    )
    .requiredOption('--tsa <url>', 'TSA URL, e.g. http://127.0.0.1:3180/')
    .requiredOption('--out <path>', 'where to write the TimeStampResp (or token)')
    .addOption(algOption())
    .option('--policy <oid>', 'ask for this TSA policy', parseOid)
    .option('--no-nonce', 'send no nonce')
    .option('--no-cert-req', 'do not ask the TSA to embed its certificate')
    .option('--token', 'write the bare TimeStampToken instead of the TimeStampResp')
    .option('--ca <pem>', 'trust anchors: verify the token fully before writing it')
    .option('--untrusted <pem>', 'extra certificates for the full verification')
    .option('--timeout-ms <ms>', 'timeout per attempt', parseNonNegative, 10_000)
    .option('--retries <n>', 'retries on transient failures', parseNonNegative, 2)
    .option('--json', 'print the result as JSON')
    .action(
      action(io, async (file: string | undefined, o: StampOptions, cmd: Command) => {
        const { alg, digest } = await stampInput(file, o, cmd);
        const result = await requestToken(digest, alg, o);
        await writeFile(o.out, o.token ? result.token : result.response).catch(
          (err: NodeJS.ErrnoException) => {
            throw new CliError(
              CliErrorCode.fileUnwritable,
              `cannot write ${o.out}: ${err.code ?? err.message}`,
            );
          },
        );
        printStamped(out, result, o);
        return ExitCode.ok;
      }),
    );
}

/** The digest to stamp and its algorithm: --digest (whose length names the algorithm), or FILE hashed here. */
async function stampInput(
  file: string | undefined,
  o: StampOptions,
  cmd: Command,
): Promise<{ alg: HashAlg; digest: Uint8Array }> {
  if ((file === undefined) === (o.digest === undefined)) cmd.error('error: give either FILE or --digest');
  if (o.digest === undefined) return { alg: o.alg, digest: digestOf(o.alg, await readInput(file!, 'file')) };
  const byLength = Object.entries(HashAlgs).find(([, a]) => a.length === o.digest!.length)![0] as HashAlg;
  if (cmd.getOptionValueSource('alg') !== 'default' && byLength !== o.alg) {
    cmd.error(`error: --digest has the length of ${byLength}, not ${o.alg}`);
  }
  return { alg: byLength, digest: o.digest };
}

type Stamped = Awaited<ReturnType<HttpTsaClient['stamp']>>;

async function requestToken(digest: Uint8Array, alg: HashAlg, o: StampOptions): Promise<Stamped> {
  const trust = o.ca
    ? {
        trustAnchors: await readCerts(o.ca, 'trust anchors'),
        untrusted: o.untrusted ? await readCerts(o.untrusted, 'untrusted certificates') : [],
      }
    : undefined;
  const client = new HttpTsaClient({
    url: o.tsa,
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    ...(trust ? { trust } : {}),
  });
  await client.start();
  const onSignal = () => void client.stop();
  process.once('SIGINT', onSignal);
  try {
    return await client.stamp(digest, alg, {
      nonce: o.nonce,
      certReq: o.certReq,
      ...(o.policy ? { policy: o.policy } : {}),
    });
  } finally {
    process.off('SIGINT', onSignal);
    await client.stop();
  }
}

function printStamped(out: Out, result: Stamped, o: StampOptions): void {
  const summary = {
    out: o.out,
    written: o.token ? 'token' : 'response',
    genTime: result.genTime.toISOString(),
    serial: result.serial,
    policy: result.policy,
    hashAlg: result.hashAlg,
    digest: result.digest,
    nonce: result.nonce,
    verified: result.verified,
  };
  if (o.json) {
    printJson(out, summary);
    return;
  }
  out(`wrote ${summary.written} to ${o.out}`);
  out(`  genTime ${summary.genTime}  serial ${bigHex(result.serial)}  policy ${result.policy}`);
  out(
    result.verified === 'full'
      ? '  verified against the given trust anchors'
      : '  matched to the request only; verify it with `jrchain tsa verify --ca ...`',
  );
}

interface VerifyCliOptions {
  file?: string;
  digest?: Uint8Array;
  alg?: string;
  ca: string;
  untrusted?: string;
  request?: string;
  policy?: string;
  json?: boolean;
}

function registerVerify(tsa: Command, io: CliIo, out: Out): void {
  tsa
    .command('verify')
    .summary('verify a time-stamp token against trust anchors')
    .description(
      'Verify a TimeStampResp or bare token against trust anchors, printing every check. Give what it must ' +
        'cover: --file, --digest, and/or --request (whose imprint, nonce and policy must then match). ' +
        'Exit 0 valid, 1 invalid, 2 bad flags, 3 unreadable or undecodable files.',
    )
    .argument('<token>', 'TimeStampResp (.tsr) or bare token file')
    .addOption(new Option('--file <path>', 'the time-stamped data'))
    .addOption(
      new Option('--digest <hex>', 'the time-stamped digest').argParser(parseDigestHex).conflicts('file'),
    )
    .addOption(
      new Option('--alg <alg>', 'algorithm of --digest (default: from its length)').choices(
        Object.keys(HashAlgs),
      ),
    )
    .requiredOption('--ca <pem>', 'trust anchor certificates (PEM)')
    .option('--untrusted <pem>', 'intermediate or TSA certificates (PEM) the token does not embed')
    .option('--request <tsq>', 'the TimeStampReq (DER) the token answers')
    .option('--policy <oid>', 'require this TSA policy', parseOid)
    .option('--json', 'print the result as JSON')
    .action(
      action(io, async (tokenPath: string, o: VerifyCliOptions, cmd: Command) => {
        if (!o.file && !o.digest && !o.request) cmd.error('error: give --file, --digest or --request');
        if (o.alg && !o.digest) cmd.error('error: --alg goes with --digest');
        const input = await readInput(tokenPath, 'token');
        const trustAnchors = await readCerts(o.ca, 'trust anchors');
        const untrusted = o.untrusted ? await readCerts(o.untrusted, 'untrusted certificates') : [];
        const result = verifyTimestamp(input, {
          trustAnchors,
          untrusted,
          ...(o.file ? { data: await readInput(o.file, 'file') } : {}),
          ...(o.digest ? { digest: o.digest } : {}),
          ...(o.alg && isHashAlg(o.alg) ? { hashAlg: o.alg } : {}),
          ...(o.request ? { request: await readInput(o.request, 'request') } : {}),
          ...(o.policy ? { policy: o.policy } : {}),
        });
        printVerify(out, tokenPath, result, o.json === true);
        if (result.ok) return ExitCode.ok;
        return result.failedCheck === 'decode' ? ExitCode.badInput : ExitCode.failed;
      }),
    );
}

function registerInspect(tsa: Command, io: CliIo, out: Out): void {
  tsa
    .command('inspect')
    .summary('show what a time-stamp token contains')
    .description(
      'Print what a TimeStampResp or bare token contains (status, policy, serial, genTime, accuracy, nonce, ' +
        'imprint, TSA name, signer, certificates), without verifying it. Exit 3 if it does not decode.',
    )
    .argument('<token>', 'TimeStampResp (.tsr) or bare token file')
    .option('--json', 'print as JSON')
    .action(
      action(io, async (tokenPath: string, o: { json?: boolean }) => {
        const bytes = await readInput(tokenPath, 'token');
        let d: TimestampDescription;
        try {
          d = describeTimestamp(bytes);
        } catch (err) {
          if (isTimestampError(err, TimestampErrorCode.unparsable))
            throw new CliError(CliErrorCode.fileInvalid, `${tokenPath}: ${err.message}`);
          throw err;
        }
        if (o.json) printJson(out, d);
        else printDescription(out, tokenPath, d);
        return ExitCode.ok;
      }),
    );
}

function printVerify(out: Out, path: string, r: VerifyResult, json: boolean): void {
  if (json) {
    printJson(out, r.ok ? { ...r, token: undefined } : r);
    return;
  }
  let kind = 'unreadable';
  if (r.checksPassed.includes('decode')) kind = r.status ? 'TimeStampResp' : 'bare token';
  out(`${path} (${kind})`);
  for (const c of r.checks) {
    const mark = c.status === 'pass' ? 'ok  ' : c.status === 'skip' ? 'skip' : 'FAIL';
    out(`  ${mark} ${c.name.padEnd(22)}${c.detail ?? ''}`);
  }
  if (r.ok) {
    out(`VALID: genTime ${r.genTime.toISOString()}, serial ${bigHex(r.serial)}, policy ${r.policy}`);
    out(`       signed by ${r.signerSubject}`);
  } else {
    out(`INVALID: ${r.failedCheck}: ${r.reason}`);
  }
}

function printDescription(out: Out, path: string, d: TimestampDescription): void {
  out(`${path}: ${d.kind === 'response' ? 'TimeStampResp' : 'bare TimeStampToken'}`);
  if (d.status) {
    out(`status:      ${d.status.status}`);
    if (d.status.text.length) out(`statusText:  ${d.status.text.join(' | ')}`);
    if (d.status.failInfo.length) out(`failInfo:    ${d.status.failInfo.join(', ')}`);
  }
  const t = d.token;
  if (!t) return;
  out(`contentType: ${t.contentType}${t.eContentType ? ` / ${t.eContentType}` : ''}`);
  if (t.policy) {
    const acc = t.accuracy;
    out(`policy:      ${t.policy}`);
    out(`serial:      ${t.serial}`);
    out(`genTime:     ${t.genTime} (${t.genTimeText})`);
    out(`accuracy:    ${acc ? `${acc.seconds}s ${acc.millis}ms ${acc.micros}us` : 'unspecified'}`);
    out(`ordering:    ${t.ordering ? 'yes' : 'no'}`);
    out(`nonce:       ${t.nonce ?? 'none'}`);
    out(`imprint:     ${t.imprint?.hashAlg} ${t.imprint?.digest}`);
    out(`tsa:         ${t.tsaName ?? 'unspecified'}`);
  }
  for (const s of t.signers)
    out(`signer:      ${s.sid} (${s.signatureAlgorithm}, digest ${s.digestAlgorithm})`);
  out(`certificates: ${t.certificates.length}`);
  for (const c of t.certificates) {
    if ('undecodable' in c) out(`  - undecodable: ${c.undecodable}`);
    else out(`  - ${c.subject} (issuer ${c.issuer}, serial ${c.serial}, ${c.notBefore} .. ${c.notAfter})`);
  }
}
