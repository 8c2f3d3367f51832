/**
 * Files the node config names and reads at start: the API's TLS certificate and key (config.api.tls; the key
 * file is refused when group or others can access it, like the node's own key files), and the TSA's CRLs
 * (config.tsa.crlFiles).
 */
import { readFileSync, statSync } from 'node:fs';
import { JrError } from '../core/errors.ts';
import { readCrls } from '../timestamp/crl.ts';
import { type NodeConfig, resolveHomePath } from './config.ts';

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new JrError(
      'NODE_CONFIG',
      `cannot read the API TLS ${what} ${path} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}

/** The PEM texts, or undefined when the API runs without TLS. */
export function loadApiTls(config: NodeConfig): { cert: string; key: string } | undefined {
  if (config.api.tls === undefined) return undefined;
  const certFile = resolveHomePath(config, config.api.tls.cert);
  const keyFile = resolveHomePath(config, config.api.tls.key);
  const key = readPem(keyFile, 'key');
  const mode = statSync(keyFile).mode;
  if ((mode & 0o077) !== 0)
    throw new JrError(
      'NODE_CONFIG',
      `API TLS key ${keyFile} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${keyFile}`,
    );
  return { cert: readPem(certFile, 'certificate'), key };
}

/** The CRLs of config `tsa.crlFiles`, as DER: evidence records carry them (docs/long-term.md). */
export function loadRevocation(config: NodeConfig): { crls: Uint8Array[] } {
  const crls = (config.tsa.crlFiles ?? []).flatMap((f) => {
    const file = resolveHomePath(config, f);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (err) {
      throw new JrError(
        'NODE_CONFIG',
        `cannot read the CRL file ${file} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    try {
      return readCrls(bytes, file).map((c) => c.der);
    } catch (err) {
      throw new JrError('NODE_CONFIG', (err as Error).message);
    }
  });
  return { crls };
}
