/**
 * The API's TLS certificate and key, from the files config.api.tls names. The key file is refused when group
 * or others can access it, like the node's own key files.
 */
import { readFileSync, statSync } from 'node:fs';
import { JrError } from '../core/errors.ts';
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
