/**
 * The standing list of single-line safety mutants (issue 14). Each is an exact (file, original, replacement):
 * `original` must occur exactly once in `file` (stale.test.ts checks it in `npm test`; the runner refuses a
 * stale entry), so a refactor that moves the code makes the list fail loudly instead of skipping a mutant.
 * `tests` are the files of `npm test` that must kill the mutant (the runner's fast list); docs/testing.md shows
 * the table rendered from this list (`npm run mutate -- --markdown`), and a test keeps the two equal.
 */
export interface Mutant {
  readonly id: string;
  /** Path from the repository root. */
  readonly file: string;
  readonly original: string;
  readonly replacement: string;
  /** The rule the mutant breaks, in a few words. */
  readonly breaks: string;
  /** Test files (from the repository root, all part of `npm test`) that kill it. */
  readonly tests: readonly string[];
}

const CERTS = 'src/consensus/certificates.ts';
const VC = 'src/consensus/view-change.ts';
const VCS = 'src/consensus/view-changes.ts';
const NORMAL = 'src/consensus/normal-case.ts';
const GUARD = 'src/consensus/guard.ts';
const PACE = 'src/consensus/pacemaker.ts';
const SYNC = 'src/node/net/state-sync.ts';
const GOV = 'src/ledger/governance-state.ts';
const DRIVER = 'src/consensus/driver.ts';

const REPLICA_TEST = 'test/unit/consensus/replica.test.ts';
const VC_TEST = 'test/unit/consensus/view-change.test.ts';
const CERT_TEST = 'test/unit/consensus/certificates.test.ts';
const GUARD_TEST = 'test/unit/consensus/guard.test.ts';
const SAFETY_TEST = 'test/unit/consensus/view-change-safety.test.ts';
const SYNC_TEST = 'test/unit/node/net/state-sync.test.ts';
const GOV_TEST = 'test/unit/ledger/governance.test.ts';
const CORE_TEST = 'test/unit/core/block.test.ts';
const QUORUM_TEST = 'test/unit/consensus/quorum-votes.test.ts';
const EPOCH_TEST = 'test/unit/consensus/epoch.test.ts';
const DRIVER_TEST = 'test/unit/consensus/driver.test.ts';
const DRIVER_EPOCH_TEST = 'test/unit/consensus/driver-epoch.test.ts';

export const MUTANTS: readonly Mutant[] = [
  // ---- quorum arithmetic ------------------------------------------------------------------------------------
  {
    id: 'quorum-formula',
    file: 'src/core/validators.ts',
    original: 'return Math.ceil((n + faultTolerance(n) + 1) / 2);',
    replacement: 'return Math.ceil((n + faultTolerance(n)) / 2);',
    breaks: 'quorum ⌈(n+f)/2⌉: two quorums of n = 5 need not intersect in an honest validator',
    tests: [CORE_TEST],
  },
  {
    id: 'fault-tolerance',
    file: 'src/core/validators.ts',
    original: 'return Math.floor((n - 1) / 3);',
    replacement: 'return Math.floor(n / 3);',
    breaks: 'f = ⌊n/3⌋ overstates the faults tolerated (n = 3, 6)',
    tests: [CORE_TEST],
  },
  // ---- certificate contents and checks ----------------------------------------------------------------------
  {
    id: 'distinct-signers',
    file: CERTS,
    original: 'if (s.validator <= last || s.validator >= ctx.n)',
    replacement: 'if (s.validator < last || s.validator >= ctx.n)',
    breaks: 'one validator’s share counted twice towards a quorum',
    tests: [CERT_TEST],
  },
  {
    id: 'checkpoint-proof-size',
    file: CERTS,
    original: 'if (p.signatures.length < ctx.q) {',
    replacement: 'if (p.signatures.length < ctx.f + 1) {',
    breaks: 'a checkpoint proof with f+1 signatures is taken as stable',
    tests: [REPLICA_TEST],
  },
  {
    id: 'base-checkpoint-hash',
    file: CERTS,
    original: 'if (p.signatures.length !== 0 || !equalBytes(p.headerHash, ctx.genesisHash)) {',
    replacement: 'if (p.signatures.length !== 0) {',
    breaks: 'the unsigned base checkpoint may name any header hash',
    tests: [EPOCH_TEST],
  },
  {
    id: 'prepared-cert-size',
    file: CERTS,
    original: 'if (c.prepares.length < ctx.q - 1) {',
    replacement: 'if (c.prepares.length < ctx.q - 2) {',
    breaks: 'a prepared certificate one PREPARE short is accepted',
    tests: [REPLICA_TEST],
  },
  {
    id: 'primary-cannot-prepare',
    file: CERTS,
    original: 'if (c.prepares.some((s) => s.validator === primary)) {',
    replacement: 'if (c.prepares.some((s) => s.validator === -1)) {',
    breaks: 'the primary’s PREPARE counts in its own prepared certificate',
    tests: [CERT_TEST],
  },
  {
    id: 'cert-view-bound',
    file: CERTS,
    original: 'if (c.view >= vc.newView) throw',
    replacement: 'if (c.view > vc.newView) throw',
    breaks: 'a VIEW-CHANGE may carry a certificate of the view it asks for',
    tests: [CERT_TEST],
  },
  {
    id: 'cert-seq-window',
    file: CERTS,
    original: 'if (c.seq <= low || c.seq > low + ctx.l) {',
    replacement: 'if (c.seq <= low || c.seq > low + 2 * ctx.l) {',
    breaks: 'a VIEW-CHANGE may carry certificates above the watermark window',
    tests: [CERT_TEST],
  },
  {
    id: 'commit-quorum-size',
    file: CERTS,
    original: 'if (cert.signatures.length < ctx.q) {',
    replacement: 'if (cert.signatures.length < ctx.q - 1) {',
    breaks: 'a commit certificate one signature short proves a block (catch-up)',
    tests: [REPLICA_TEST],
  },
  {
    id: 'epoch-domain',
    file: 'src/core/block.ts',
    original: 'consensusChainId(header.chainId, genesisHash, epochOf(set)),',
    replacement: 'header.chainId,',
    breaks: 'commit certificates checked in the epoch-0 domain: votes of one epoch verify in another',
    tests: [DRIVER_EPOCH_TEST],
  },
  {
    id: 'genesis-domain',
    file: 'src/core/block.ts',
    original: 'consensusChainId(header.chainId, genesisHash, epochOf(set)),',
    replacement: 'consensusChainId(header.chainId, null, epochOf(set)),',
    breaks:
      'commit certificates checked without the genesis: a receipt verifies against another genesis (ADR 010)',
    tests: [CORE_TEST],
  },
  {
    id: 'epoch-domain-id',
    file: 'src/core/validators.ts',
    original: 'return epoch === 0 ? bound : `',
    replacement: 'return epoch >= 0 ? bound : `',
    breaks: 'every epoch signs in one domain: a vote of an ended epoch counts in the next one',
    tests: [GOV_TEST],
  },
  {
    id: 'block-cert-quorum',
    file: 'src/core/block.ts',
    original: 'if (cert.signatures.length < q) {',
    replacement: 'if (cert.signatures.length < q - 1) {',
    breaks: 'a block’s commit certificate one signature short is accepted (ledger, sync, receipts)',
    tests: [CORE_TEST],
  },
  // ---- view change: what is carried, the NEW-VIEW rule and its check ---------------------------------------
  {
    id: 'vc-carries-prepared',
    file: VCS,
    original: '.filter((e) => e.preparedCert && e.seq > s.checkpoints.low)',
    replacement: '.filter((e) => e.preparedCert && e.seq > s.lastExecuted)',
    breaks: 'a VIEW-CHANGE omits certificates of executed but not yet stable seqs: a fork with one Byzantine',
    tests: [SAFETY_TEST],
  },
  {
    id: 'plan-highest-view',
    file: VC,
    original: 'c.view > cur.view ||',
    replacement: 'c.view < cur.view ||',
    breaks: 'the NEW-VIEW re-issues the certificate of the lowest view, not the highest',
    tests: [VC_TEST],
  },
  {
    id: 'plan-min-s',
    file: VC,
    original: 'c.seq > checkpoint.seq ||',
    replacement: 'c.seq < checkpoint.seq ||',
    breaks: 'min-s is the lowest checkpoint of the quorum, not the highest',
    tests: [VC_TEST],
  },
  {
    id: 'newview-digest',
    file: VC,
    original: 'if (got.seq !== want.seq || !equalBytes(got.digest, want.digest)) {',
    replacement: 'if (got.seq !== want.seq) {',
    breaks: 'a NEW-VIEW may re-issue another batch than its VIEW-CHANGEs prove',
    tests: [VC_TEST],
  },
  {
    id: 'newview-quorum',
    file: VC,
    original: 'if (nv.viewChanges.length < ctx.q) {',
    replacement: 'if (nv.viewChanges.length < ctx.f + 1) {',
    breaks: 'a NEW-VIEW built from f+1 VIEW-CHANGEs is accepted',
    tests: [REPLICA_TEST, VC_TEST],
  },
  {
    id: 'newview-vc-view',
    file: VC,
    original: 'if (vc.newView !== nv.view) {',
    replacement: 'if (vc.newView > nv.view) {',
    breaks: 'a NEW-VIEW may count VIEW-CHANGEs for earlier views',
    tests: [VC_TEST],
  },
  {
    id: 'newview-sender',
    file: VC,
    original: 'if (nv.from !== primary) throw',
    replacement: 'if (nv.from === -1) throw',
    breaks: 'any validator may send the NEW-VIEW of a view',
    tests: [VC_TEST],
  },
  {
    id: 'enter-conflicts-executed',
    file: VCS,
    original: 'if (ex?.digest !== undefined && !equalBytes(ex.digest, p.digest)) {',
    replacement: 'if (ex?.digest === undefined && !equalBytes(ex!.digest!, p.digest)) {',
    breaks: 'a NEW-VIEW that contradicts an executed block is accepted at that seq',
    tests: [REPLICA_TEST],
  },
  {
    id: 'catchup-head-cert',
    file: 'src/consensus/catch-up.ts',
    original: 'verifyCommitQuorum(s.ctx, head, DropReason.badCertificate);\n      this.headHint',
    replacement: 'this.headHint',
    breaks: 'a peer’s head with a forged commit certificate becomes a catch-up target',
    tests: [REPLICA_TEST],
  },
  {
    id: 'catchup-later-view-cert',
    file: 'src/consensus/catch-up.ts',
    original: 'if (!used) verifyCommitQuorum(s.ctx, head, DropReason.badCertificate);',
    replacement: 'if (used) verifyCommitQuorum(s.ctx, head, DropReason.badCertificate);',
    breaks: 'a forged head of a later view makes a replica leave its working view',
    tests: [REPLICA_TEST],
  },
  // ---- the normal case ---------------------------------------------------------------------------------------
  {
    id: 'prepared-quorum',
    file: NORMAL,
    original: 'if (shares.length < s.ctx.q - 1) return;',
    replacement: 'if (shares.length < s.ctx.q - 2) return;',
    breaks: 'prepared with one PREPARE too few',
    tests: [REPLICA_TEST],
  },
  {
    id: 'prepared-digest',
    file: NORMAL,
    original: 'if (v.valueHex === e.digestHex) shares.push',
    replacement: 'if (v.valueHex !== undefined) shares.push',
    breaks: 'PREPAREs for another digest count towards prepared',
    tests: [QUORUM_TEST],
  },
  {
    id: 'commit-header',
    file: NORMAL,
    original: 'if (v.valueHex === hashHex) shares.push',
    replacement: 'if (v.valueHex !== undefined) shares.push',
    breaks: 'COMMITs for another header count towards the commit quorum',
    tests: [QUORUM_TEST],
  },
  {
    id: 'commit-quorum',
    file: NORMAL,
    original: 'if (shares.length < s.ctx.q) return;',
    replacement: 'if (shares.length < s.ctx.q - 1) return;',
    breaks: 'a block commits with one COMMIT too few',
    tests: [REPLICA_TEST],
  },
  // ---- the guard and persistence order -----------------------------------------------------------------------
  {
    id: 'guard-view-left',
    file: GUARD,
    original: 'if (view < this.g.voteView || view < this.g.viewChangeView) {',
    replacement: 'if (view < this.g.voteView) {',
    breaks: 'votes in a view the replica already asked to leave',
    tests: [GUARD_TEST],
  },
  {
    id: 'guard-equivocation',
    file: GUARD,
    original: 'if (!equalBytes(signed, value)) {',
    replacement: 'if (signed === undefined) {',
    breaks: 'two different values signed for one (view, seq, phase)',
    tests: [GUARD_TEST],
  },
  {
    id: 'guard-view-change-again',
    file: GUARD,
    original: 'if (newView <= this.g.viewChangeView || newView <= this.g.voteView) {',
    replacement: 'if (newView < this.g.viewChangeView || newView <= this.g.voteView) {',
    breaks: 'a second VIEW-CHANGE for the same view (with other certificates)',
    tests: [GUARD_TEST],
  },
  {
    id: 'persist-commit-vote',
    file: NORMAL,
    original: "s.fx.persist(...s.guard.authorizeVote('commit', s.view, e.seq, hash));",
    replacement: "s.guard.authorizeVote('commit', s.view, e.seq, hash);",
    breaks: 'a COMMIT is sent before the guard records it: after a crash it may sign another header',
    tests: [DRIVER_TEST],
  },
  {
    id: 'persist-prepared-cert',
    file: NORMAL,
    original: 's.persistEntry(e);\n    if (e.seq <= s.lastExecuted) this.commitExecuted(e);',
    replacement: 'if (e.seq <= s.lastExecuted) this.commitExecuted(e);',
    breaks:
      'the prepared certificate is not persisted before the COMMIT: lost from VIEW-CHANGEs after a crash',
    tests: [REPLICA_TEST],
  },
  // ---- a PRE-PREPARE's txs are judged on the state its block builds on (driver) --------------------------------
  {
    id: 'driver-rejudge-held',
    file: DRIVER,
    original: 'if (message.seq === next) this.enqueueInbound(() => this.messageInput(message, verified));',
    replacement:
      "if (message.seq === next) this.enqueueInbound(async () => ({ now: this.c.clock.now(), type: 'message', message, verified }));",
    breaks:
      'a PRE-PREPARE held for a later head reaches the core without its txs judged on the state it builds on',
    tests: [DRIVER_TEST],
  },
  {
    id: 'driver-hold-later-seq',
    file: DRIVER,
    original: 'if (bad && !(message.seq > this.c.chain.head().height + 1 && this.defer(message, verified)))',
    replacement: 'if (bad)',
    breaks:
      'txs of a PRE-PREPARE above head + 1 judged on the older head: a lagging validator refuses valid ones',
    tests: [DRIVER_TEST],
  },
  // ---- liveness: which VIEW-CHANGEs move a replica -----------------------------------------------------------
  {
    id: 'join-f-plus-1',
    file: PACE,
    original: 'if (later.length >= s.ctx.f + 1) {',
    replacement: 'if (later.length >= s.ctx.f) {',
    breaks: 'f Byzantine VIEW-CHANGEs make every honest replica leave a working view',
    tests: [REPLICA_TEST],
  },
  {
    id: 'vc-quorum-left-for-later',
    file: PACE,
    original: 'if (this.vcQuorumSeen || this.quorumLeftForLater()) {',
    replacement: 'if (this.vcQuorumSeen) {',
    breaks: 'replicas left behind in a view the others left wait for ever (a stall with f faulty)',
    tests: [REPLICA_TEST],
  },
  {
    id: 'lone-vc-next-view-only',
    file: PACE,
    original: 'return this.views.votesFor(this.state.view + 1) > 0;',
    replacement: 'return this.views.laterViews().length > 0;',
    breaks: 'one far-future VIEW-CHANGE forces a view change every period (issue 14)',
    tests: [REPLICA_TEST],
  },
  // ---- compact PRE-PREPARE (issue 19) -------------------------------------------------------------------------
  {
    id: 'compact-edge-signature',
    file: 'src/node/net/consensus-transport.ts',
    original: 'if (!ctx.verify(signer.publicKey, domain, body, m.signature)) {',
    replacement:
      "if (m.type !== 'compactPrePrepare' && !ctx.verify(signer.publicKey, domain, body, m.signature)) {",
    breaks: 'a PRE-PREPARE naming its txs by hash passes the edge unsigned',
    tests: ['test/unit/node/net/compact-pre-prepare.test.ts'],
  },
  {
    id: 'compact-fetched-txs',
    file: 'src/node/net/tx-resolver.ts',
    original:
      "if (txs !== undefined && !sameTxs(txs, indexes, m.hashes)) throw new Error('other txs than asked for');",
    replacement: "if (txs !== undefined && txs.length === 0) throw new Error('other txs than asked for');",
    breaks: 'a backup fills a PRE-PREPARE with fetched txs other than those it names',
    tests: ['test/unit/node/net/tx-resolver.test.ts'],
  },
  // ---- national algorithms (ADR 014) ---------------------------------------------------------------------------
  {
    id: 'sm2-verify-z',
    file: 'src/core/sm/sm2.ts',
    original: ': sm3(key.z, message);',
    replacement: ': sm3(message);',
    breaks: 'an SM2 signature is checked without the Z value that binds the signer’s key and user ID',
    tests: ['test/unit/core/sm/sm2.test.ts'],
  },
  {
    id: 'tsa-sm2-default-id',
    file: 'src/timestamp/signature.ts',
    original: 'return sm2Verify(c.key.key, c.data, sm2SignatureFromDer(c.signature));',
    replacement: 'return sm2Verify(c.key.key, c.data, sm2SignatureFromDer(c.signature), new Uint8Array(0));',
    breaks: 'an SM2 timestamp token is checked with an empty user ID instead of the standard’s default',
    tests: ['test/interop/sm2-timestamp.test.ts'],
  },
  {
    id: 'receipt-suite',
    file: 'src/receipt/block-checks.ts',
    original: 'if (claimedSuite !== suite) {',
    replacement: 'if (claimedSuite === undefined) {',
    breaks: 'a receipt that does not name its chain’s crypto suite (or names another) is accepted',
    tests: ['test/unit/receipt/sm-receipt.test.ts'],
  },
  // ---- state sync ----------------------------------------------------------------------------------------------
  {
    id: 'sync-block-cert',
    file: SYNC,
    original: 'if (err instanceof CertError) throw bad(SyncErrorCode.badCertificate, err.message);',
    replacement: 'if (err instanceof CertError) return undefined as never;',
    breaks: 'a synced block whose commit certificate fails is applied anyway',
    tests: [SYNC_TEST],
  },
  {
    id: 'sync-tx-root',
    file: SYNC,
    original: 'if (!equalBytes(root, h.txRoot)) throw mismatch();',
    replacement: 'if (root === undefined) throw mismatch();',
    breaks: 'txs that are not the certified ones are reported as a re-execution failure, not a bad block',
    tests: [SYNC_TEST],
  },
  {
    id: 'sync-target-hash',
    file: SYNC,
    original:
      'if (target?.headerHash !== undefined && h.height === target.seq && !equalBytes(hash, target.headerHash)) {',
    replacement: 'if (target?.headerHash !== undefined && h.height === target.seq && hash === undefined) {',
    breaks: 'a transfer ends on a block other than the certified target',
    tests: [SYNC_TEST],
  },
  {
    id: 'sync-later-epoch-f-plus-1',
    file: SYNC,
    original: 'const proven = beyond.length > f ? beyond[f] : undefined;',
    replacement: 'const proven = beyond.length > 0 ? beyond[0] : undefined;',
    breaks: 'one lying peer’s unverifiable head suspends consensus (the f+1 rule)',
    tests: [SYNC_TEST],
  },
  {
    id: 'sync-head-other-set',
    file: SYNC,
    original: "if (!equalBytes(header.validatorSetHash, known.hash)) return 'otherEpoch';",
    replacement: "if (!equalBytes(header.validatorSetHash, known.hash)) return 'ok';",
    breaks: 'a status head naming a set this node does not know is handed on as certified, unchecked',
    tests: [SYNC_TEST],
  },
  {
    id: 'sync-cert-only-check',
    file: SYNC,
    original: 'verifyCommitCertificate(b.cert, h, signers.set, this.#d.quorum.genesisHash, scheme);',
    replacement: 'void [signers, scheme];',
    breaks: 'sync stores a block whose certificate nobody checked (the ledger is told sync checked it)',
    tests: [SYNC_TEST],
  },
  {
    id: 'ledger-cert-verified-flag',
    file: 'src/ledger/ledger-chain.ts',
    original: 'if (!certificateVerified) {',
    replacement: 'if (certificateVerified) {',
    breaks: 'the ledger stores a consensus-committed block without checking its certificate',
    tests: ['test/unit/ledger/ledger-chain.test.ts'],
  },
  {
    id: 'sync-stand-down',
    file: SYNC,
    original: 'if (target.byCore) return await this.#standDown(head.height);',
    replacement: 'if (target.byCore && this.#stopped) return await this.#standDown(head.height);',
    breaks: 'a transfer only a lying peer could serve holds consensus until that peer serves it',
    tests: [SYNC_TEST],
  },
  {
    id: 'catch-up-stall-release',
    file: 'src/consensus/catch-up.ts',
    original: 'if (s.lastExecuted < s.checkpoints.low) return;',
    replacement: 'return;',
    breaks: 'the core keeps waiting for a transfer that stood down instead of committing by consensus',
    tests: [REPLICA_TEST],
  },
  {
    id: 'sync-sigs-digest',
    file: SYNC,
    original: 'return answers.every((d) => d !== undefined && equalBytes(d, digest));',
    replacement: 'return answers.every((d) => d !== undefined);',
    breaks: 'catch-up skips client-signature checks when another validator holds other signatures',
    tests: [SYNC_TEST],
  },
  {
    id: 'sync-sigs-alone',
    file: SYNC,
    original: 'if (others.length < f) return false;',
    replacement: 'if (others.length < f) return true;',
    breaks: 'catch-up skips client-signature checks on one peer’s word (fewer than f+1 vouch)',
    tests: [SYNC_TEST],
  },
  {
    id: 'exec-sigs-vouched',
    file: 'src/ledger/ledger-chain.ts',
    original: '      vouched,\n',
    replacement: '      vouched: inBlock,\n',
    breaks: 'block execution skips client-signature checks when nobody vouched for them',
    tests: ['test/unit/ledger/ledger-chain.test.ts'],
  },
  // ---- governance ------------------------------------------------------------------------------------------------
  {
    id: 'gov-removed-votes',
    file: GOV,
    original: 'const votes = p.approvals.filter((a) => members.has(a)).length;',
    replacement: 'const votes = p.approvals.length;',
    breaks: 'approvals of validators no longer in the set count towards a proposal',
    tests: [GOV_TEST],
  },
  {
    id: 'gov-quorum',
    file: GOV,
    original: 'if (votes < quorumSize(set.validators.length)) return;',
    replacement: 'if (votes < quorumSize(set.validators.length) - 1) return;',
    breaks: 'a governance proposal passes one approval short of a quorum',
    tests: [GOV_TEST],
  },
  // ---- sealed cases and archive tokens (ADR 011, ADR 012) ----------------------------------------------------
  {
    id: 'wrap-party',
    file: 'src/ledger/case-machine.ts',
    original: 'if (!parties.has(w.institution))',
    replacement: 'if (false)',
    breaks: 'a sealed case record wraps the case key for an institution that is not a party',
    tests: ['test/unit/ledger/cases-sealed.test.ts'],
  },
  {
    id: 'wrap-recipient',
    file: 'src/ledger/case-machine.ts',
    original: 'if (key === undefined || !equalBytes(key, w.recipient))',
    replacement: 'if (key === undefined)',
    breaks: 'a case key wrap to a key other than the party’s registered encryption key is accepted',
    tests: ['test/unit/ledger/cases-sealed.test.ts'],
  },
  {
    id: 'wrap-missing',
    file: 'src/ledger/case-machine.ts',
    original: 'if (!before.has(p) && !wrapped.has(p))',
    replacement: 'if (false)',
    breaks: 'an event that makes an institution a party carries no case key wrap for it',
    tests: ['test/unit/ledger/cases-sealed.test.ts'],
  },
  {
    id: 'sealing-required-ref',
    file: 'src/ledger/case-machine.ts',
    original: 'if (!isCaseRef(r.caseId))',
    replacement: 'if (false)',
    breaks: 'a mandatory-sealing chain accepts a case record that names its case id in clear',
    tests: ['test/unit/ledger/cases-sealed.test.ts'],
  },
  {
    id: 'sealing-required-open',
    file: 'src/ledger/case-machine.ts',
    original: "if (r.event.type === 'open' && r.sealed === undefined)",
    replacement: 'if (false)',
    breaks: 'a mandatory-sealing chain accepts an open without sealed case details',
    tests: ['test/unit/ledger/cases-sealed.test.ts'],
  },
  {
    id: 'sealing-required-wraps',
    file: 'src/ledger/case-machine.ts',
    original: 'if (!ctx.sealingRequired && r.sealed === undefined && r.wraps === undefined)',
    replacement: 'if (r.sealed === undefined && r.wraps === undefined)',
    breaks: 'on a mandatory-sealing chain an event without a sealed part adds a party with no case key wrap',
    tests: ['test/unit/ledger/cases-sealed.test.ts'],
  },
  {
    id: 'store-keeps-shredded-out',
    file: 'src/node/case-keys.ts',
    original: 'if (index.shredded.includes(c.ref))',
    replacement: 'if (false)',
    breaks:
      'a case key shredded from a store is stored again (`case sync` while the old encryption key lives)',
    tests: ['test/unit/node/case-key-store.test.ts'],
  },
  {
    id: 'audit-head-signature',
    file: 'src/api/audit.ts',
    original: '!verify(pub, Domain.auditHead, headBody(head.seq, head.hash), sig)',
    replacement: 'false',
    breaks:
      'an audit head whose signature does not cover its seq and hash is accepted (log and head cut together)',
    tests: ['test/unit/api/audit.test.ts'],
  },
  {
    id: 'audit-head-key',
    file: 'src/api/audit.ts',
    original: 'if (keys !== undefined && !keys.some((k) => equalBytes(k, pub)))',
    replacement: 'if (false)',
    breaks: "an audit head re-signed by a key other than the node's is accepted",
    tests: ['test/unit/api/audit.test.ts'],
  },
  {
    id: 'audit-head-strict',
    file: 'src/api/audit.ts',
    original: 'const strict = signer !== undefined && signedEra;',
    replacement: 'const strict = false;',
    breaks: 'a node whose log records signed heads starts on an unsigned or missing head',
    tests: ['test/unit/api/audit.test.ts'],
  },
  {
    id: 'genesis-encryption-key',
    file: GOV,
    original: 'encryptionKey: i.encryptionKey,',
    replacement: 'encryptionKey: undefined,',
    breaks: 'the registry ignores the encryption keys the genesis registers (or registers others)',
    tests: ['test/unit/core/genesis.test.ts'],
  },
  {
    id: 'gov-audit-regulator',
    file: GOV,
    original: "if (inst?.role !== 'regulator') return",
    replacement: 'if (inst === undefined) return',
    breaks: 'governance grants audit access to an institution that is not a regulator',
    tests: [GOV_TEST],
  },
  {
    id: 'anchor-archive-token',
    file: 'src/ledger/rules.ts',
    original: 'if (stamp === undefined) continue;',
    replacement: 'continue;',
    breaks: 'an anchor’s archive timestamp or renewal token from an untrusted TSA is accepted',
    tests: ['test/unit/receipt/ers-export.test.ts'],
  },
  {
    id: 'audit-head-shrinks',
    file: 'src/ledger/rules.ts',
    original: 'if (audit.seq <= committed) {',
    replacement: 'if (audit.seq < committed) {',
    breaks: 'an audit head no longer than the committed one is accepted (a rolled-back log re-anchored)',
    tests: ['test/unit/ledger/tx-rules.test.ts'],
  },
  {
    id: 'audit-committed-head-hash',
    file: 'src/api/audit.ts',
    original: 'if (e.hash !== committed.hash)',
    replacement: 'if (e.hash === undefined)',
    breaks: 'a log rewritten below the audit head committed on the chain passes audit verify and node start',
    tests: ['test/unit/api/audit-anchor.test.ts'],
  },
  // ---- long-term receipts (ADR 016) -------------------------------------------------------------------------
  {
    id: 'receipt-anchor-expired',
    file: 'src/receipt/time-checks.ts',
    original: 'if (!time.renewed) {',
    replacement: 'if (false) {',
    breaks:
      'a receipt whose anchor token expired before the verification time passes without a renewed archive',
    tests: ['test/unit/node/renewal.test.ts'],
  },
  {
    id: 'receipt-archive-at',
    file: 'src/receipt/archive-check.ts',
    original: 'at: opts.at,',
    replacement: 'at: undefined,',
    breaks:
      'a v4 receipt’s archive chain is not checked at the verification time: an unrenewed archive passes',
    tests: ['test/unit/node/renewal.test.ts'],
  },
  // ---- hash-tree renewal on the ledger (ADR 016) -----------------------------------------------------------
  {
    id: 'hash-renewal-recorder',
    file: 'src/ledger/rules.ts',
    original: 'if (recorded.env.tx.institution !== env.tx.institution) {',
    replacement: 'if (false) {',
    breaks: 'an institution renews the hash of evidence another institution recorded',
    tests: ['test/unit/ledger/tx-rules.test.ts'],
  },
  {
    id: 'hash-renewal-once',
    file: 'src/ledger/rules.ts',
    original: 'if (facts.renewed.has(id)) {',
    replacement: 'if (false) {',
    breaks: 'a second hash renewal of the same evidence is accepted',
    tests: ['test/unit/ledger/tx-rules.test.ts'],
  },
  {
    id: 'hash-renewal-stamp-recorder',
    file: 'src/ledger/rules.ts',
    original: 'if (f.recorder !== tx.institution) return bad(',
    replacement: 'if (false) return bad(',
    breaks: 'an anchor stamps a hash renewal request not made by the institution that recorded the evidence',
    tests: ['test/unit/ledger/tx-rules.test.ts'],
  },
  {
    id: 'hash-renewal-stamp-once',
    file: 'src/ledger/rules.ts',
    original: 'if (f.stamped || facts.stampedInBlock.has(id)) return bad(',
    replacement: 'if (facts.stampedInBlock.has(id)) return bad(',
    breaks: 'an anchor stamps a hash renewal request that a committed anchor already stamped',
    tests: ['test/unit/ledger/tx-rules.test.ts'],
  },
  {
    id: 'anchor-imprint-suite',
    file: 'src/ledger/ledger-chain.ts',
    original: 'headerHashAlg: this.#suite.hashName,',
    replacement: "headerHashAlg: 'sha256',",
    breaks: 'an SM chain’s anchor token is judged with a SHA-256 imprint, not the SM3 its receipts check',
    tests: ['test/unit/node/sm-anchoring.test.ts'],
  },
  {
    id: 'key-file-suite',
    file: 'src/core/keys.ts',
    original: "if (want !== 'any' && want !== suite) throw wrongSuite(path, suite, want);",
    replacement: 'if (false) throw wrongSuite(path, suite, want);',
    breaks:
      'a key file of the other crypto suite is loaded (an SM2 file’s peer seed taken for a signing key)',
    tests: ['test/unit/node/sm-keys.test.ts'],
  },
  {
    id: 'hash-renewal-export-root',
    file: 'src/receipt/hash-renewals.ts',
    original: 'tree !== undefined && equalBytes(rootOf(tree.levels), stamp.root) ? tree : null',
    replacement: 'tree !== undefined ? tree : null',
    breaks: "an export appends a hash-renewal chain whose leaves do not lead to the stamp's recorded root",
    tests: ['test/unit/node/hash-renewal.test.ts'],
  },
  {
    id: 'hash-renewal-export-frozen',
    file: 'src/receipt/hash-renewals.ts',
    original: 'const archive = await archiveAt(queries, doc, anchor);',
    replacement: 'const archive = await archiveAt(queries, doc);',
    breaks: "a renewed document's first chain takes renewals made after the stamping anchor",
    tests: ['test/unit/node/hash-renewal.test.ts'],
  },
  {
    id: 'stamp-renewal-token',
    file: 'src/ledger/rules.ts',
    original: 'for (const x of anchor.stampRenewals ?? []) {',
    replacement: 'for (const x of [] as typeof anchor.stampRenewals & {}) {',
    breaks: 'an anchor carries a stamp renewal token no trusted TSA made',
    tests: ['test/unit/ledger/tx-rules.test.ts'],
  },
  {
    id: 'stamp-renewal-export-root',
    file: 'src/receipt/stamp-history.ts',
    original:
      'if (leaves.length === 0 || !equalBytes(rootOf(indexedTree(alg, leaves).levels), r.root)) break;',
    replacement: 'if (leaves.length === 0) break;',
    breaks: 'an export appends a stamp renewal whose leaves do not lead to its recorded root',
    tests: ['test/unit/node/hash-renewal.test.ts'],
  },
  {
    id: 'hash-renewal-stamp-while-pending',
    file: 'src/node/anchoring.ts',
    original: 'return this.#hashJob !== undefined && head.height > anchoredHeight && !ours;',
    replacement: 'return this.#hashJob !== undefined && head.height > anchoredHeight;',
    breaks:
      "the primary stamps requests while its own anchor awaits commit, so the stamp's leaves may miss a chain's renewal",
    tests: ['test/unit/node/hash-renewal.test.ts'],
  },
  {
    id: 'gov-key-suite',
    file: 'src/core/governance.ts',
    original: 'if (!(k instanceof Uint8Array) || k.length !== suite.publicKeyLength)',
    replacement: 'if (!(k instanceof Uint8Array) || k.length !== 32)',
    breaks: 'an SM chain’s governance record accepts a 32-byte key instead of its 65-byte SM2 keys',
    tests: ['test/unit/ledger/sm-governance.test.ts'],
  },
  {
    id: 'co-signature-suite',
    file: 'src/ledger/case-machine.ts',
    original: 'const suite = ctx.suite ?? ED25519_SHA256;',
    replacement: 'const suite = ED25519_SHA256;',
    breaks: 'an SM chain’s case agreement co-signature is judged as Ed25519',
    tests: ['test/unit/ledger/sm-case-cosign.test.ts'],
  },
  {
    id: 'http-signature-suite',
    file: 'src/api/auth.ts',
    original: 'if (!verifyBase(key, base, signature, this.#suite))',
    replacement: 'if (!verifyBase(key, base, signature))',
    breaks: 'an SM chain’s API verifies request signatures as Ed25519, not with the SM2 client keys',
    tests: ['test/unit/api/http-signature.test.ts'],
  },
  {
    id: 'gov-peer-key-unique',
    file: GOV,
    original: 'if (toHex(k) === hex) return',
    replacement: "if (toHex(k) === '') return",
    breaks:
      'an SM chain’s governance gives a validator a peer key another validator already has (one peer id for two)',
    tests: ['test/unit/ledger/sm-governance.test.ts'],
  },
  {
    id: 'sm-governance-peer-id',
    file: 'src/core/keys.ts',
    original: 'return peerKey === undefined ? undefined : peerIdOf(peerKey);',
    replacement: 'return undefined;',
    breaks:
      'an SM validator governance added or rotated gets no peer id: never admitted or dialled (its votes lost)',
    tests: ['test/unit/node/sm-keys.test.ts'],
  },
  {
    id: 'node-hash-renewal-wiring',
    file: 'src/node/node.ts',
    original: 'hashRenewals: ledgerHashRenewalSource(queries),',
    replacement: 'hashRenewals: undefined,',
    breaks: "a node's primary never stamps committed hash-renewal requests (the job is not wired in)",
    tests: ['test/integration/net/hash-renewal-node.test.ts'],
  },
  {
    id: 'hash-renewal-source-stamped',
    file: 'src/receipt/hash-renewals.ts',
    original: 'if ((await queries.hashRenewalStampOf(tx.env.hash)) !== undefined) waiting.delete(id);',
    replacement: 'if (false) waiting.delete(id);',
    breaks: 'the stamping job keeps offering a request an anchor has already stamped (its anchor is refused)',
    tests: ['test/unit/node/hash-renewal-source.test.ts', 'test/unit/node/hash-renewal.test.ts'],
  },
  {
    id: 'archive-chain-digests',
    file: 'src/receipt/archive-check.ts',
    original: 'const digests = { ...opts.chainDigests, sha256: evidence.hash };',
    replacement: 'const digests = { sha256: evidence.hash };',
    breaks: "a verifier holding a renewed document's hashes checks only its SHA-256 chain",
    tests: ['test/unit/node/hash-renewal.test.ts'],
  },
  // ---- overload back-pressure (issue 19) ------------------------------------------------------------------
  {
    id: 'retry-after-503',
    file: 'src/api/http.ts',
    original: 'status === 503 || status === 429 ?',
    replacement: 'status === 429 ?',
    breaks: 'a 503 for a full mempool no longer tells clients when to retry (they hammer an overloaded node)',
    tests: ['test/unit/api/routes.test.ts'],
  },
  {
    id: 'retry-after-batch-full',
    file: 'src/api/routes.ts',
    original: "o.rejection.code === 'MEMPOOL_FULL');",
    replacement: "o.rejection.code === 'MEMPOOL_FULL_');",
    breaks: 'a batch with txs refused for a full mempool gives no back-off hint',
    tests: ['test/unit/api/routes.test.ts'],
  },
  {
    id: 'mempool-default-txs',
    file: 'src/node/mempool.ts',
    original: 'maxTxs: 10_000,',
    replacement: 'maxTxs: 50_000,',
    breaks:
      'an overloaded validator pools 50,000 txs by default before refusing any (five times the default)',
    tests: ['test/unit/node/mempool.test.ts'],
  },
  {
    id: 'mempool-forward-reserve',
    file: 'src/node/mempool.ts',
    original: 'if (full || (local && localFull)) {',
    replacement: 'if (full || localFull) {',
    breaks:
      'a pool that clients filled to their share refuses txs other validators forwarded (forwarded once: gone from it)',
    tests: ['test/unit/node/mempool.test.ts'],
  },
  // ---- signed API requests ----------------------------------------------------------------------------------
  {
    id: 'replay-cache-lookup',
    file: 'src/api/replay-cache.ts',
    original: "if (bucket?.has(id)) return 'replayed';",
    replacement: "if (false) return 'replayed';",
    breaks: 'a signed request replayed inside the window is served again',
    tests: ['test/unit/api/replay-cache.test.ts', 'test/unit/api/access.test.ts'],
  },
  {
    id: 'replay-cache-early-drop',
    file: 'src/api/replay-cache.ts',
    original: 'if (created >= nowSec - this.#maxAge) continue;',
    replacement: 'if (created > nowSec - this.#maxAge) continue;',
    breaks:
      'nonces are forgotten while their `created` still passes the window (a replay in its last second)',
    tests: ['test/unit/api/replay-cache.test.ts'],
  },
  // ---- the simulation's shared decoding (test/sim/shared-decode.ts) -------------------------------------------
  {
    id: 'sim-shared-decode-unfrozen',
    file: 'test/sim/shared-decode.ts',
    original: 'm = deepFreeze(decodeMessage(bytes));',
    replacement: 'm = decodeMessage(bytes);',
    breaks:
      "the receivers of one message share a mutable decoding: one receiver's change is seen by the others",
    tests: ['test/sim/shared-decode.test.ts'],
  },
];
