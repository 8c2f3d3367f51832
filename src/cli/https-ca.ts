/**
 * HTTPS requests that trust a given CA (`--ca` / JRCHAIN_CA), for nodes whose API certificate is not signed
 * by a public CA. Node's built-in fetch takes no CA option (that needs undici's Agent), hence node:https.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { CliError, CliErrorCode } from './errors.ts';

let caFileFlag: string | undefined;

/** Set by the global `--ca <file>` option; JRCHAIN_CA applies when it is absent. */
export function setCaFile(file: string | undefined): void {
  caFileFlag = file;
}

/** The PEM of the CA to trust, or undefined to trust the system's CAs. */
export function trustedCa(): string | undefined {
  const file = caFileFlag ?? process.env.JRCHAIN_CA;
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      CliErrorCode.fileUnreadable,
      `cannot read the CA file ${file} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}

export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
}

export interface CaRequest {
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  signal: AbortSignal;
  ca: string;
}

/** One request over TLS 1.2+ trusting only `ca`; rejects with the socket error, whose code the caller reports. */
export function requestWithCa(url: URL, r: CaRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: r.method, headers: r.headers, ca: r.ca, minVersion: 'TLSv1.2', signal: r.signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', (err) => reject(Object.assign(new Error(err.message), { cause: err })));
    req.end(r.body);
  });
}
