/**
 * The one place a node is wired: config + genesis → ledger, validator service (consensus, p2p, mempool,
 * sync), block anchoring and the HTTP API. `bin/` and the CLI only parse options and call this.
 */

import { join } from 'node:path';
import { isLoopbackHost } from '../api/access.ts';
import { AUDIT_LOG_FILE, AuditLog, checkCommittedHead } from '../api/audit.ts';
import type { CaseKeyLookup } from '../api/case-routes.ts';
import { ApiServer } from '../api/http.ts';
import {
  type ApiBackend,
  type ApiPages,
  apiRoutes,
  MAX_TX_BODY_BYTES,
  type ReadyState,
} from '../api/routes.ts';
import { governanceView } from '../api/views.ts';
import { decodeAuditHead } from '../core/audit-head.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import type { Signer } from '../core/crypto.ts';
import { JrError } from '../core/errors.ts';
import { type Genesis, genesisHash, genesisSuite } from '../core/genesis.ts';
import { loadGenesisFile } from '../core/genesis-file.ts';
import { type KeyPair, type ReadKeyOptions, readKeyFile, validatorPeerId } from '../core/keys.ts';
import { LedgerChain } from '../ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../ledger/level-store.ts';
import { LedgerQueries } from '../ledger/queries.ts';
import type { Revocation } from '../receipt/ers-export.ts';
import { ledgerHashRenewalSource } from '../receipt/hash-renewals.ts';
import { createGenesisTokenVerifier, HttpTsaClient } from '../timestamp/index.ts';
import { AnchoringService } from './anchoring.ts';
import { loadApiTls, loadRevocation } from './api-tls.ts';
import { AuditAnchoring } from './audit-anchoring.ts';
import { CASE_KEYS_DIR, homeCaseKeys } from './case-keys.ts';
import { type NodeConfig, resolveHomePath } from './config.ts';
import { prepareDataDir } from './data-dir.ts';
import type { Logger } from './logger.ts';
import { NodeMetrics } from './metrics.ts';
import { ValidatorService } from './validator.ts';

export class NodeStartError extends JrError {
  constructor(message: string) {
    super('NODE_CONFIG', message);
  }
}

/**
 * Loads the genesis and key a config names. Which validator the key is, if any, is decided against the set in
 * force (ADR 006) by the ValidatorService: a validator added by governance is not in the genesis, and a
 * rotated one runs a key the genesis does not list. The institution must be known, though: a genesis
 * institution, or one with a validator key file for a validator that governance adds later.
 */
export function loadIdentity(
  config: NodeConfig,
  keyOptions: ReadKeyOptions = {},
): { genesis: Genesis; key: KeyPair } {
  const genesis = loadGenesisFile(resolveHomePath(config, config.genesisFile));
  // The key must be of the chain's suite (ADR 014): an SM chain's validator signs with SM2 and reaches its peers
  // with the Ed25519 peer key of the same file; a key of the other suite is refused (KEY_FILE_WRONG_SUITE).
  const key = readKeyFile(resolveHomePath(config, config.validatorKeyFile), {
    ...keyOptions,
    suite: genesisSuite(genesis).name,
  });
  const v = genesis.validators.find((x) => x.institution === config.institution);
  if (v !== undefined && !equalBytes(v.publicKey, key.publicKey)) {
    // Normal after a key rotation; a typo otherwise. The node starts outside the set until the key is in it.
    process.emitWarning(
      `${config.validatorKeyFile} is not the validator key the genesis lists for ${config.institution} (rotated?)`,
    );
  }
  return { genesis, key };
}

interface Parts {
  config: NodeConfig;
  genesis: Genesis;
  metrics: NodeMetrics;
  validator: ValidatorService;
  store: LevelLedgerStore;
  queries: LedgerQueries;
  tsa: HttpTsaClient | undefined;
  anchoring: AnchoringService | undefined;
  auditHeads: AuditAnchoring;
  audit: AuditLog;
  log: Logger;
  tls: { cert: string; key: string } | undefined;
  pages: ApiPages;
  /** The key files' passphrase, which also opens an encrypted case-key store (ADR 015). */
  passphrase: string | undefined;
  revocation: Revocation;
}

export class JrNode {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly metrics: NodeMetrics;
  readonly validator: ValidatorService;
  readonly queries: LedgerQueries;
  readonly #p: Parts;
  readonly #api: ApiServer;
  #apiUrl: string | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(p: Parts) {
    this.#p = p;
    this.config = p.config;
    this.genesis = p.genesis;
    this.metrics = p.metrics;
    this.validator = p.validator;
    this.queries = p.queries;
    this.#api = new ApiServer({
      host: p.config.api.host,
      port: p.config.api.port,
      routes: apiRoutes(this.#backend(), { audit: p.audit }, p.pages),
      maxBodyBytes: MAX_TX_BODY_BYTES,
      logger: p.log,
      ...(p.tls !== undefined ? { tls: p.tls } : {}),
    });
  }

  /** Opens the ledger (idempotent over an existing data directory) and builds every component. */
  /** `keyOptions` carries the validator key's passphrase when `jrchain start` prompted for it. */
  /** `pages` supplies the pages the API serves beside its JSON (the verification page, built by the CLI). */
  static async open(
    config: NodeConfig,
    log: Logger,
    keyOptions: ReadKeyOptions = {},
    pages: ApiPages = {},
  ): Promise<JrNode> {
    const { genesis, key } = loadIdentity(config, keyOptions);
    const tls = loadApiTls(config);
    const revocation = loadRevocation(config);
    log.debug({ config }, 'effective config');
    const dataDir = resolveHomePath(config, config.dataDir);
    prepareDataDir(dataDir);
    const store = await LevelLedgerStore.open(join(dataDir, 'ledger'), genesisSuite(genesis));
    try {
      // Checked on open: a log edited or cut in the middle refuses the start (AUDIT_LOG_TAMPERED).
      // Its head is signed with the validator key: cutting the log and its head together needs that key.
      const audit = new AuditLog(join(dataDir, AUDIT_LOG_FILE), Date.now, key.signer);
      const verifier = createGenesisTokenVerifier(genesis.tsa);
      const chain = await LedgerChain.open(store, genesis, {
        tokenVerifier: verifier,
        anchorVerifier: verifier,
      });
      const metrics = new NodeMetrics({ processMetrics: true });
      const validator = await ValidatorService.create({
        genesis,
        institution: config.institution,
        key,
        store,
        chain,
        listen: config.p2p.listen,
        peerAddrs: config.p2p.peers,
        observers: config.p2p.observers,
        logger: log,
        metrics,
      });
      const queries = new LedgerQueries(store, genesis);
      let tsa: HttpTsaClient | undefined;
      let anchoring: AnchoringService | undefined;
      if (config.tsa.url !== undefined) {
        tsa = new HttpTsaClient({ url: config.tsa.url, timeoutMs: config.tsa.timeoutMs });
        anchoring = new AnchoringService(
          {
            tsa,
            chainId: genesis.chainId,
            institution: config.institution,
            signer: key.signer,
            suite: genesisSuite(genesis),
            ledger: queries,
            hashRenewals: ledgerHashRenewalSource(queries),
            onHead: (listener) => validator.onCommit(() => listener(queries.head())),
            isPrimary: () => validator.isPrimary(),
            submit: async (env) => {
              const r = await validator.submit(env);
              return r.status === 'rejected' ? r.rejection : undefined;
            },
          },
          {
            intervalMs: config.tsa.anchorIntervalMs,
            logger: log,
            ...(config.tsa.renewal === undefined ? {} : { renewal: config.tsa.renewal }),
          },
        );
      }
      const auditHeads = await openAuditHeads(config, genesis, key.signer, store, audit, validator, log);
      return new JrNode({
        config,
        genesis,
        metrics,
        validator,
        store,
        queries,
        tsa,
        anchoring,
        auditHeads,
        audit,
        log,
        tls,
        pages,
        passphrase: keyOptions.passphrase,
        revocation,
      });
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  /** Starts p2p and consensus, then anchoring, then the API (last, so it never serves a half-started node). */
  async start(): Promise<{ apiUrl: string; p2pAddrs: string[] }> {
    await this.validator.start();
    await this.#p.tsa?.start();
    await this.#p.anchoring?.start();
    this.#p.auditHeads.start();
    this.#apiUrl = await this.#api.start();
    if (!isLoopbackHost(this.config.api.host)) {
      // Case data is served only to signed requests whatever the host, but the warning is deliberate.
      this.#p.log.warn(
        { apiHost: this.config.api.host },
        'THE API LISTENS BEYOND LOOPBACK: anyone who reaches it gets status, receipts and metrics; case data, ' +
          'blocks and txs need signed requests (docs/security.md). Configure api.tls or put TLS in front of it.',
      );
    }
    const p2pAddrs = this.validator.p2pAddrs();
    this.#p.log.info(
      { apiUrl: this.#apiUrl, p2pAddrs, institution: this.config.institution },
      'node started',
    );
    return { apiUrl: this.#apiUrl, p2pAddrs };
  }

  /** Graceful: stop accepting requests, stop anchoring, let consensus finish its in-flight commit, close. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#api.stop();
      await this.#p.anchoring?.stop();
      await this.#p.auditHeads.stop();
      await this.#p.tsa?.stop();
      await this.validator.stop();
      await this.#p.store.close();
      this.#p.log.info({}, 'node stopped');
    })();
    return this.#stopping;
  }

  ready(): ReadyState {
    const s = this.validator.status();
    const reasons: string[] = [];
    if (s.sync.state !== 'idle') reasons.push(`syncing to height ${s.sync.targetHeight ?? '?'}`);
    if (s.fatal !== undefined) reasons.push(`stopped on an error: ${s.fatal}`);
    if (s.connectedValidators < s.quorum) {
      reasons.push(`reaches ${s.connectedValidators} validators (itself included); a quorum is ${s.quorum}`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  async status(): Promise<Record<string, unknown>> {
    const s = this.validator.status();
    const anchor = this.#p.anchoring ? await this.#p.anchoring.status() : undefined;
    if (anchor) {
      this.metrics.anchorLagBlocks.set(anchor.lagBlocks);
      this.metrics.anchorLagSeconds.set(anchor.lagMs / 1000);
    }
    return {
      chainId: this.genesis.chainId,
      genesisHash: toHex(genesisHash(this.genesis)),
      institution: this.config.institution,
      height: s.height,
      headHash: s.headHash,
      lastCommitTime: s.lastCommitAt !== undefined ? new Date(s.lastCommitAt).toISOString() : null,
      view: s.view,
      primary: s.primaryInstitution,
      isPrimary: s.isPrimary,
      consensus: s.consensus,
      stableCheckpoint: s.stableCheckpoint,
      highWatermark: s.highWatermark,
      quorum: s.quorum,
      connectedValidators: s.connectedValidators,
      // The set in force for the next block (ADR 006); the genesis set until governance changes it.
      validatorSet: governanceView(this.queries.governance(), s.height + 1, 0, this.genesis).validatorSet,
      validators: this.queries
        .governance()
        .epochAt(s.height + 1)
        .set.validators.map((v) => ({
          institution: v.institution,
          peerId:
            validatorPeerId(v.publicKey, this.genesis, (k) => this.queries.governance().peerKeyOf(k)) ?? null,
        })),
      peers: s.peers,
      pendingTxs: s.pendingTxs,
      anchor: anchor
        ? {
            anchoredHeight: anchor.anchoredHeight,
            lagBlocks: anchor.lagBlocks,
            lagMs: anchor.lagMs,
            lastError: anchor.lastError ?? null,
            nextAttemptAt:
              anchor.nextAttemptAt !== undefined ? new Date(anchor.nextAttemptAt).toISOString() : null,
            lastRenewal: anchor.lastRenewal
              ? { ...anchor.lastRenewal, at: new Date(anchor.lastRenewal.at).toISOString() }
              : null,
            lastHashRenewal: anchor.lastHashRenewal
              ? { ...anchor.lastHashRenewal, at: new Date(anchor.lastHashRenewal.at).toISOString() }
              : null,
          }
        : null,
      sync: s.sync,
      drops: s.drops,
      prePrepareTxs: s.prePrepareTxs,
      suspicions: s.suspicions,
      ready: this.ready(),
    };
  }

  /**
   * The home's case-key store, if the institution keeps one there (ADR 011): its cases are served opened. Looked
   * up on each read, so a store created while the node runs (the devnet demo's) is used at once.
   */
  #caseKeys(): CaseKeyLookup {
    const dir = resolveHomePath(this.config, CASE_KEYS_DIR);
    const store = homeCaseKeys(dir, this.#p.passphrase, (err) =>
      this.#p.log.warn({ code: err.code, dir }, 'case-key store unreadable: sealed cases are served sealed'),
    );
    return { institution: this.config.institution, ...store };
  }

  #backend(): ApiBackend {
    return {
      genesis: this.genesis,
      queries: this.queries,
      revocation: this.#p.revocation,
      submit: (env) => this.validator.submit(env),
      submitMany: (envs) => this.validator.submitMany(envs),
      onCommit: (listener) => this.validator.onCommit((c) => listener(c.txHashes)),
      status: () => this.status(),
      ready: () => this.ready(),
      caseKeys: this.#caseKeys(),
      metrics: async () => {
        await this.status(); // refreshes the anchor-lag gauges
        return this.metrics.render();
      },
    };
  }
}

/**
 * The log must still reach the head this node committed on the chain (ADR 015): a log rolled back with its
 * signed head refuses the start (AUDIT_LOG_ROLLED_BACK). Then the service that commits its later heads.
 */
async function openAuditHeads(
  config: NodeConfig,
  genesis: Genesis,
  signer: Signer,
  store: LevelLedgerStore,
  audit: AuditLog,
  validator: ValidatorService,
  log: Logger,
): Promise<AuditAnchoring> {
  const committed = async () => {
    const t = await store.auditHead(config.institution);
    return t === undefined ? undefined : decodeAuditHead(t.env.tx.payload);
  };
  const onChain = await committed();
  if (onChain !== undefined)
    checkCommittedHead(audit.entries(), { seq: onChain.seq, hash: toHex(onChain.hash) });
  return new AuditAnchoring(
    {
      chainId: genesis.chainId,
      institution: config.institution,
      signer,
      suite: genesisSuite(genesis),
      head: () => audit.head(),
      committed: async () => (await committed())?.seq ?? 0,
      submit: async (env) => {
        const r = await validator.submit(env);
        return r.status === 'rejected' ? r.rejection : undefined;
      },
      warn: (message, details) => log.warn(details, message),
    },
    config.audit === undefined ? {} : { intervalMs: config.audit.headIntervalMs },
  );
}
