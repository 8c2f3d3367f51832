/**
 * An institution's node home: a validator key (also its libp2p identity), a client key for signing evidence,
 * the public member description to send to the alliance, and a node config. `jrchain init` creates one; so
 * do the devnet and the cluster test harness.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../core/bytes.ts';
import { newEncryptionKey } from '../core/case-seal.ts';
import type { SuiteName } from '../core/crypto-suite.ts';
import { JrError } from '../core/errors.ts';
import { generateKeyPair, writeKeyFile } from '../core/keys.ts';
import { ID_PATTERN } from '../core/limits.ts';
import { MEMBER_FORMAT, type MemberDescription } from '../core/member.ts';
import type { InstitutionRole } from '../core/roles.ts';
import { resolveAllowlist } from '../p2p/index.ts';
import { ENCRYPTION_KEY_FILE, writeEncryptionKeyFile } from './case-keys.ts';
import {
  CONFIG_FILE,
  configToJson,
  defaultConfig,
  loadConfig,
  type NodeConfig,
  parseConfig,
} from './config.ts';

export const HOME_FILES = {
  validatorKey: 'validator.key',
  clientKey: 'client.key',
  member: 'member.json',
} as const;

export interface InitOptions {
  home: string;
  institution: string;
  name?: string;
  host?: string;
  p2pPort?: number;
  apiPort?: number;
  tsaUrl?: string;
  /** Timestamp renewal policy written to the config (docs/long-term.md); none by default. */
  renewal?: NodeConfig['tsa']['renewal'];
  /** CRL files of the TSA's chain written to the config (`tsa.crlFiles`); none by default. */
  crlFiles?: string[];
  /** The institution's role in the alliance (docs/cases.md); the genesis treats none as `bank`. */
  role?: InstitutionRole;
  /**
   * An observer runs a full node that is not a validator (e.g. a court or regulator): its member file names
   * no validator key, and its node key is only its network identity, which validators list in their config
   * (`p2p.observers`) so that it may connect and sync.
   */
  observer?: boolean;
  /** Encrypts both key files with this passphrase (docs/security.md#key-files). */
  passphrase?: string;
  /**
   * The chain's suite (ADR 014; default ed25519-sha256). sm2-sm3: both keys are SM2 key files, each with an
   * Ed25519 libp2p peer key; the member file names the validator's peer key beside its SM2 public key.
   */
  cryptoSuite?: SuiteName;
}

export interface InitResult {
  home: string;
  institution: string;
  validatorPublicKey: string;
  /** The validator's Ed25519 libp2p key when it is not its signing key (sm2-sm3). */
  validatorPeerKey?: string;
  peerId: string;
  clientPublicKey: string;
  /** The X25519 encryption key's public half (ADR 015), also in the member file. */
  encryptionPublicKey: string;
  memberFile: string;
  configFile: string;
  p2pAddr: string;
  apiUrl: string;
}

/** Creates the home; refuses to touch one that already has keys or a config. */
export function initHome(o: InitOptions): InitResult {
  if (!ID_PATTERN.test(o.institution)) {
    throw new JrError('USAGE', '--institution must be lower-case letters, digits, . _ - (at most 64)');
  }
  for (const f of [HOME_FILES.validatorKey, HOME_FILES.clientKey, ENCRYPTION_KEY_FILE, CONFIG_FILE]) {
    if (existsSync(join(o.home, f)))
      throw new JrError('USAGE', `${join(o.home, f)} exists; this home is already initialised`);
  }
  mkdirSync(o.home, { recursive: true, mode: 0o700 });
  const suite = o.cryptoSuite ?? 'ed25519-sha256';
  const validator = generateKeyPair(suite);
  const client = generateKeyPair(suite);
  // On an SM chain the peer id derives from a separate Ed25519 key, which the genesis must name (ADR 014).
  const peerKey = suite === 'sm2-sm3' ? { peerKey: toHex(validator.peerKey) } : {};
  const enc = o.passphrase !== undefined ? { passphrase: o.passphrase } : {};
  writeKeyFile(join(o.home, HOME_FILES.validatorKey), validator, enc);
  writeKeyFile(join(o.home, HOME_FILES.clientKey), client, enc);
  // The X25519 key case keys are wrapped to: in the member file, so the genesis registers it (ADR 015).
  const encryption = newEncryptionKey();
  writeEncryptionKeyFile(join(o.home, ENCRYPTION_KEY_FILE), encryption, enc);
  const host = o.host ?? '127.0.0.1';
  const p2pAddr = `/ip4/${host}/tcp/${o.p2pPort ?? 7100}`;
  const member: MemberDescription = {
    format: MEMBER_FORMAT,
    institution: { id: o.institution, name: o.name ?? o.institution, ...(o.role ? { role: o.role } : {}) },
    ...(o.observer
      ? {}
      : { validator: { publicKey: toHex(validator.publicKey), ...peerKey, addrs: [p2pAddr] } }),
    clientKeys: [{ keyId: 'client-1', publicKey: toHex(client.publicKey) }],
    encryptionKey: toHex(encryption.publicKey),
  };
  writeFileSync(join(o.home, HOME_FILES.member), `${JSON.stringify(member, null, 2)}\n`);
  const config = defaultConfig(o.home, o.institution);
  config.p2p.listen = [p2pAddr];
  config.api.port = o.apiPort ?? 8100;
  if (o.tsaUrl !== undefined) config.tsa.url = o.tsaUrl;
  if (o.renewal !== undefined) config.tsa.renewal = o.renewal;
  if (o.crlFiles !== undefined) config.tsa.crlFiles = o.crlFiles;
  writeFileSync(join(o.home, CONFIG_FILE), `${JSON.stringify(configToJson(config), null, 2)}\n`, {
    mode: 0o600,
  });
  return {
    home: o.home,
    institution: o.institution,
    validatorPublicKey: toHex(validator.publicKey),
    ...(suite === 'sm2-sm3' ? { validatorPeerKey: toHex(validator.peerKey) } : {}),
    peerId: validator.peerId,
    clientPublicKey: toHex(client.publicKey),
    encryptionPublicKey: toHex(encryption.publicKey),
    memberFile: join(o.home, HOME_FILES.member),
    configFile: join(o.home, CONFIG_FILE),
    p2pAddr,
    apiUrl: `http://${config.api.host}:${config.api.port}`,
  };
}

/**
 * Adds an observer's peer id (printed by `jrchain init --observer`) to a validator home's `p2p.observers`, so
 * that observer may connect; only the config file changes, and the node reads it at its next start. Returns
 * whether it was added (false: already listed).
 */
export function allowObserver(home: string, peerId: string): { added: boolean; configFile: string } {
  try {
    resolveAllowlist({ validators: [], observers: [peerId] });
  } catch {
    throw new JrError(
      'USAGE',
      `not a peer id: ${JSON.stringify(peerId)} (jrchain init --observer prints it)`,
    );
  }
  const configFile = join(home, CONFIG_FILE);
  const observers = loadConfig(home, {}, {}).p2p.observers;
  if (observers.includes(peerId)) return { added: false, configFile };
  const doc = JSON.parse(readFileSync(configFile, 'utf8')) as { p2p?: { observers?: string[] } };
  doc.p2p = { ...doc.p2p, observers: [...observers, peerId] };
  parseConfig(home, doc);
  writeFileSync(configFile, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return { added: true, configFile };
}
