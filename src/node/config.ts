/**
 * Node configuration: `HOME/config.json`, then environment variables, then command-line flags, each
 * overriding the last. Relative paths resolve against the home directory. Validation is strict: an unknown
 * field or a bad value is an error naming the setting, never a silent default.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { JrError } from '../core/errors.ts';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './logger.ts';

export const CONFIG_FORMAT = 'jrchain-config/v1';
export const CONFIG_FILE = 'config.json';

export class ConfigError extends JrError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

export interface NodeConfig {
  home: string;
  /** This node's institution id; its validator is the genesis validator of that institution. */
  institution: string;
  genesisFile: string;
  validatorKeyFile: string;
  dataDir: string;
  p2p: {
    /** libp2p listen multiaddrs. */
    listen: string[];
    /** Peer address overrides by peer id, for validators that moved since the genesis. */
    peers: Record<string, string[]>;
    /** Non-validator peer ids allowed to connect (read-only observers). */
    observers: string[];
  };
  api: {
    host: string;
    port: number;
    /** PEM certificate chain and key files (relative to the home): the API then speaks HTTPS only. */
    tls?: { cert: string; key: string };
  };
  tsa: {
    /** RFC 3161 TSA used for block anchoring; anchoring is off when absent. */
    url?: string;
    anchorIntervalMs: number;
    timeoutMs: number;
    /**
     * CRL files (PEM or DER, relative to the home) of the TSA's chain, read at start: evidence records and
     * receipts carry them as revocation data (docs/long-term.md). None when absent.
     */
    crlFiles?: string[];
    /** Timestamp renewal of archive timestamps (docs/long-term.md); off when absent. */
    renewal?: {
      beforeExpiryMs: number;
      maxAgeMs?: number;
      checkIntervalMs?: number;
      deprecatedAlgorithms?: string[];
    };
  };
  log: { level: LogLevel; format: LogFormat };
  /** How often the node commits its audit log head to the chain when the log grew (ADR 015); default 10 min. */
  audit?: { headIntervalMs: number };
}

/** Overrides from the environment or flags, already parsed to their types. */
export interface ConfigOverrides {
  apiHost?: string;
  apiPort?: number;
  p2pListen?: string[];
  tsaUrl?: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

export const ENV_VARS = {
  apiHost: 'JRCHAIN_API_HOST',
  apiPort: 'JRCHAIN_API_PORT',
  p2pListen: 'JRCHAIN_P2P_LISTEN',
  tsaUrl: 'JRCHAIN_TSA_URL',
  logLevel: 'JRCHAIN_LOG_LEVEL',
  logFormat: 'JRCHAIN_LOG_FORMAT',
} as const;

export function defaultConfig(home: string, institution: string): NodeConfig {
  return {
    home,
    institution,
    genesisFile: 'genesis.json',
    validatorKeyFile: 'validator.key',
    dataDir: 'data',
    p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], peers: {}, observers: [] },
    api: { host: '127.0.0.1', port: 8100 },
    tsa: { anchorIntervalMs: 5000, timeoutMs: 10_000 },
    log: { level: 'info', format: 'json' },
  };
}

function fail(msg: string): never {
  throw new ConfigError(msg);
}

function port(v: unknown, what: string): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535)
    fail(`${what} must be a port 0-65535`);
  return v as number;
}

function logLevel(v: unknown, what: string): LogLevel {
  if (typeof v !== 'string' || !(LOG_LEVELS as readonly string[]).includes(v)) {
    fail(`${what} must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return v as LogLevel;
}

function logFormat(v: unknown, what: string): LogFormat {
  if (v !== 'json' && v !== 'pretty') fail(`${what} must be json or pretty`);
  return v;
}

function tsaUrl(v: unknown, what: string): string {
  if (typeof v !== 'string' || !/^https?:\/\/[^\s]+$/.test(v)) fail(`${what} must be an http(s) URL`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    fail(`${what} must be an array of strings`);
  return v as string[];
}

function object(v: unknown, what: string, allowed: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} must be an object`);
  for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(`${what}.${k} is not a known setting`);
  return v as Record<string, unknown>;
}

function posInt(v: unknown, what: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 1) fail(`${what} must be a positive integer`);
  return v as number;
}

function renewalPolicy(v: unknown): NonNullable<NodeConfig['tsa']['renewal']> {
  const r = object(v, 'config.tsa.renewal', [
    'beforeExpiryMs',
    'maxAgeMs',
    'checkIntervalMs',
    'deprecatedAlgorithms',
  ]);
  const algs = r.deprecatedAlgorithms;
  if (algs !== undefined && (!Array.isArray(algs) || !algs.every((a) => typeof a === 'string' && a !== ''))) {
    fail('config.tsa.renewal.deprecatedAlgorithms must be a list of algorithm names or OIDs');
  }
  return {
    beforeExpiryMs: posInt(r.beforeExpiryMs, 'config.tsa.renewal.beforeExpiryMs'),
    ...(r.maxAgeMs === undefined ? {} : { maxAgeMs: posInt(r.maxAgeMs, 'config.tsa.renewal.maxAgeMs') }),
    ...(r.checkIntervalMs === undefined
      ? {}
      : { checkIntervalMs: posInt(r.checkIntervalMs, 'config.tsa.renewal.checkIntervalMs') }),
    ...(algs === undefined ? {} : { deprecatedAlgorithms: [...(algs as string[])] }),
  };
}

/** Parses the config file's JSON into a full config (defaults for what it omits). */
export function parseConfig(home: string, doc: unknown): NodeConfig {
  const o = object(doc, 'config', [
    'format',
    'institution',
    'genesis',
    'validatorKey',
    'dataDir',
    'p2p',
    'api',
    'tsa',
    'log',
    'audit',
  ]);
  if (o.format !== CONFIG_FORMAT) fail(`config.format must be "${CONFIG_FORMAT}"`);
  if (typeof o.institution !== 'string' || o.institution === '') fail('config.institution is required');
  const c = defaultConfig(home, o.institution);
  const path = (v: unknown, what: string) => {
    if (typeof v !== 'string' || v === '') fail(`${what} must be a path`);
    return v;
  };
  if (o.genesis !== undefined) c.genesisFile = path(o.genesis, 'config.genesis');
  if (o.validatorKey !== undefined) c.validatorKeyFile = path(o.validatorKey, 'config.validatorKey');
  if (o.dataDir !== undefined) c.dataDir = path(o.dataDir, 'config.dataDir');
  if (o.p2p !== undefined) {
    const p = object(o.p2p, 'config.p2p', ['listen', 'peers', 'observers']);
    if (p.listen !== undefined) c.p2p.listen = strings(p.listen, 'config.p2p.listen');
    if (p.observers !== undefined) c.p2p.observers = strings(p.observers, 'config.p2p.observers');
    if (p.peers !== undefined) {
      const peers = object(p.peers, 'config.p2p.peers', Object.keys(p.peers as object));
      for (const [id, addrs] of Object.entries(peers))
        c.p2p.peers[id] = strings(addrs, `config.p2p.peers.${id}`);
    }
  }
  if (o.audit !== undefined) {
    const a = object(o.audit, 'config.audit', ['headIntervalMs']);
    c.audit = { headIntervalMs: posInt(a.headIntervalMs, 'config.audit.headIntervalMs') };
  }
  if (o.api !== undefined) {
    const a = object(o.api, 'config.api', ['host', 'port', 'tls']);
    if (a.host !== undefined) {
      if (typeof a.host !== 'string' || a.host === '') fail('config.api.host must be a host name or address');
      c.api.host = a.host;
    }
    if (a.port !== undefined) c.api.port = port(a.port, 'config.api.port');
    if (a.tls !== undefined) {
      const t = object(a.tls, 'config.api.tls', ['cert', 'key']);
      c.api.tls = { cert: path(t.cert, 'config.api.tls.cert'), key: path(t.key, 'config.api.tls.key') };
    }
  }
  if (o.tsa !== undefined) {
    const t = object(o.tsa, 'config.tsa', ['url', 'anchorIntervalMs', 'timeoutMs', 'renewal', 'crlFiles']);
    if (t.crlFiles !== undefined) {
      if (!Array.isArray(t.crlFiles)) fail('config.tsa.crlFiles must be a list of paths');
      c.tsa.crlFiles = t.crlFiles.map((f, i) => path(f, `config.tsa.crlFiles[${i}]`));
    }
    if (t.renewal !== undefined) c.tsa.renewal = renewalPolicy(t.renewal);
    if (t.url !== undefined) c.tsa.url = tsaUrl(t.url, 'config.tsa.url');
    if (t.anchorIntervalMs !== undefined)
      c.tsa.anchorIntervalMs = posInt(t.anchorIntervalMs, 'config.tsa.anchorIntervalMs');
    if (t.timeoutMs !== undefined) c.tsa.timeoutMs = posInt(t.timeoutMs, 'config.tsa.timeoutMs');
  }
  if (o.log !== undefined) {
    const l = object(o.log, 'config.log', ['level', 'format']);
    if (l.level !== undefined) c.log.level = logLevel(l.level, 'config.log.level');
    if (l.format !== undefined) c.log.format = logFormat(l.format, 'config.log.format');
  }
  return c;
}

/** Reads overrides from environment variables (names in ENV_VARS). */
export function envOverrides(env: NodeJS.ProcessEnv = process.env): ConfigOverrides {
  const o: ConfigOverrides = {};
  const get = (k: keyof typeof ENV_VARS) => {
    const v = env[ENV_VARS[k]];
    return v === undefined || v === '' ? undefined : v;
  };
  const host = get('apiHost');
  if (host !== undefined) o.apiHost = host;
  const p = get('apiPort');
  if (p !== undefined) {
    if (!/^\d+$/.test(p)) fail(`${ENV_VARS.apiPort} must be a port number`);
    o.apiPort = port(Number(p), ENV_VARS.apiPort);
  }
  const listen = get('p2pListen');
  if (listen !== undefined) o.p2pListen = listen.split(',').map((s) => s.trim());
  const url = get('tsaUrl');
  if (url !== undefined) o.tsaUrl = tsaUrl(url, ENV_VARS.tsaUrl);
  const level = get('logLevel');
  if (level !== undefined) o.logLevel = logLevel(level, ENV_VARS.logLevel);
  const format = get('logFormat');
  if (format !== undefined) o.logFormat = logFormat(format, ENV_VARS.logFormat);
  return o;
}

export function applyOverrides(c: NodeConfig, o: ConfigOverrides): NodeConfig {
  const next = structuredClone(c);
  if (o.apiHost !== undefined) next.api.host = o.apiHost;
  if (o.apiPort !== undefined) next.api.port = o.apiPort;
  if (o.p2pListen !== undefined) next.p2p.listen = o.p2pListen;
  if (o.tsaUrl !== undefined) next.tsa.url = o.tsaUrl;
  if (o.logLevel !== undefined) next.log.level = o.logLevel;
  if (o.logFormat !== undefined) next.log.format = o.logFormat;
  return next;
}

/** Loads HOME/config.json, then applies env, then flag overrides. */
export function loadConfig(
  home: string,
  flags: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): NodeConfig {
  let text: string;
  try {
    text = readFileSync(join(home, CONFIG_FILE), 'utf8');
  } catch (err) {
    throw new JrError(
      'FILE_UNREADABLE',
      `cannot read ${join(home, CONFIG_FILE)} (${(err as NodeJS.ErrnoException).code}); run \`jrchain init --home ${home}\` first`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(`${join(home, CONFIG_FILE)} is not valid JSON: ${(err as Error).message}`);
  }
  return applyOverrides(applyOverrides(parseConfig(home, doc), envOverrides(env)), flags);
}

/** A path from the config, resolved against the home directory. */
export function resolveHomePath(c: NodeConfig, p: string): string {
  return isAbsolute(p) ? p : join(c.home, p);
}

/** The config file's JSON form (what `jrchain init` writes). */
export function configToJson(c: NodeConfig): Record<string, unknown> {
  return {
    format: CONFIG_FORMAT,
    institution: c.institution,
    genesis: c.genesisFile,
    validatorKey: c.validatorKeyFile,
    dataDir: c.dataDir,
    p2p: c.p2p,
    api: c.api,
    tsa: c.tsa,
    log: c.log,
    ...(c.audit === undefined ? {} : { audit: c.audit }),
  };
}
