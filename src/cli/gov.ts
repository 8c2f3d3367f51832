/**
 * Governance commands (ADR 006): a validator proposes a change to the alliance or approves a pending proposal,
 * each a `governance` tx signed with its validator key; anyone lists the proposals and the registry.
 *
 *   jrchain gov propose register-institution bank-e "Bank E" --client-key client-1=<hex> --key v.key
 *   jrchain gov propose add-validator bank-e <hex> --key v.key
 *   jrchain gov approve <proposal id> --key v.key
 *   jrchain gov list [--status pending]
 */

import { type Command, InvalidArgumentError } from 'commander';
import { toHex, tryFromHex } from '../core/bytes.ts';
import { type CryptoSuite, cryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import {
  encodeGovernance,
  type GovernanceAction,
  type GovernanceRecord,
  validateAction,
} from '../core/governance.ts';
import { type KeyPair, readKeyFile } from '../core/keys.ts';
import { Limits } from '../core/limits.ts';
import { type ConsensusParams, DEFAULT_CONSENSUS_PARAMS } from '../core/params.ts';
import { type InstitutionRole, ROLE_NAMES } from '../core/roles.ts';
import { envelope, signTx, type TxEnvelope, VALIDATOR_KEY_ID } from '../core/tx.ts';
import { ApiClient, nodeUrl, toError } from './client.ts';
import { checkKeySuite, fetchGenesis } from './evidence.ts';
import { CliError, CliErrorCode, type CliIo, ExitCode, emit, UsageError } from './io.ts';
import { passphraseIfEncrypted } from './passphrase.ts';

const NODE_OPTION = [
  '--node <url>',
  'node API URL (default: $JRCHAIN_NODE or http://127.0.0.1:8100)',
] as const;
const TX_TTL_MS = 10 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

interface ValidatorJson {
  index: number;
  institution: string;
  publicKey: string;
}
interface ProposalJson {
  id: string;
  status: string;
  proposer: string;
  height: number;
  deadline: string;
  action: { description: string };
  approvals: string[];
  effectiveHeight: number | null;
  note: string | null;
}
export interface GovernanceJson {
  validatorSet: {
    epoch: number;
    firstHeight: number;
    n: number;
    quorum: number;
    validators: ValidatorJson[];
  };
  institutions: { id: string; name: string; clientKeys: Record<string, string> }[];
  proposals: ProposalJson[];
}

export interface ValidatorIdentity {
  /** A validator key of the chain's suite (checked against the genesis). */
  key: KeyPair;
  institution: string;
  chainId: string;
}

export function fetchGovernance(client: ApiClient): Promise<GovernanceJson> {
  return client.get<GovernanceJson>('/v1/governance').then((r) => r.body);
}

/** The institution whose validator key (in the set in force) is the key in `keyFile`. */
export async function resolveValidator(client: ApiClient, keyFile: string): Promise<ValidatorIdentity> {
  const passphrase = await passphraseIfEncrypted(keyFile);
  const key = readKeyFile(keyFile, { suite: 'any', ...(passphrase === undefined ? {} : { passphrase }) });
  const [gov, genesis] = await Promise.all([fetchGovernance(client), fetchGenesis(client)]);
  checkKeySuite(keyFile, key, genesis);
  const pub = toHex(key.publicKey);
  const v = gov.validatorSet.validators.find((x) => x.publicKey === pub);
  if (v === undefined) {
    throw new CliError(
      CliErrorCode.keyNotValidator,
      `the key in ${keyFile} (${pub.slice(0, 16)}…) is not a validator key of the set in force (epoch ${gov.validatorSet.epoch})`,
    );
  }
  return { key, institution: v.institution, chainId: genesis.chainId };
}

export function governanceTx(id: ValidatorIdentity, g: GovernanceRecord, now: number): TxEnvelope {
  return envelope(
    signTx(
      {
        chainId: id.chainId,
        type: 'governance',
        institution: id.institution,
        keyId: VALIDATOR_KEY_ID,
        nonce: 0,
        createdAt: now,
        ttlMs: TX_TTL_MS,
        payload: encodeGovernance(g, cryptoSuite(id.key.suite)),
      },
      id.key.signer,
    ),
    cryptoSuite(id.key.suite),
  );
}

/** Hex of any length: validateAction then checks it against the chain's suite (32 or 65 bytes, ADR 014). */
function publicKeyArg(hex: string): Uint8Array {
  const b = tryFromHex(hex);
  if (b === undefined || b.length === 0) throw new UsageError(`public key must be hex, got "${hex}"`);
  return b;
}

function clientKeyOption(value: string, prev: string[] = []): string[] {
  if (!/^[^=]+=(?:[0-9a-fA-F]{2})+$/.test(value))
    throw new InvalidArgumentError('must be keyId=<public key in hex>');
  return [...prev, value];
}

/** The actions of ADR 011: an institution's encryption key, a regulator's audit access. */
function confidentialityAction(
  name: string,
  args: readonly string[],
  need: (n: number, usage: string) => void,
): GovernanceAction {
  switch (name) {
    case 'set-encryption-key':
      need(2, '<institution> <X25519 public key hex>');
      return { type: 'setEncryptionKey', institution: args[0]!, publicKey: publicKeyArg(args[1]!) };
    case 'grant-audit':
    case 'revoke-audit':
      need(1, '<regulator institution>');
      return { type: 'setAuditAccess', institution: args[0]!, granted: name === 'grant-audit' };
    default:
      throw new UsageError(
        `unknown action ${name}: register-institution, add-client-key, revoke-client-key, add-validator, remove-validator, rotate-validator-key, set-params, set-role, set-encryption-key, grant-audit, revoke-audit`,
      );
  }
}

/** The action named on the command line; validated like the codec would (for `suite`), with a usage error. */
export function actionFromArgs(
  name: string,
  args: readonly string[],
  opts: { clientKey?: string[]; peerKey?: string },
  suite: CryptoSuite = ED25519_SHA256,
): GovernanceAction {
  return checkedAction(parseAction(name, args, opts), suite);
}

/** Validates an action like the codec would for a chain of `suite`, with a usage error. */
function checkedAction(action: GovernanceAction, suite: CryptoSuite): GovernanceAction {
  try {
    validateAction(action, suite);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return action;
}

/** The action named on the command line, not yet validated (its keys' length depends on the chain's suite). */
function parseAction(
  name: string,
  args: readonly string[],
  opts: { clientKey?: string[]; peerKey?: string },
): GovernanceAction {
  // An sm2-sm3 chain's validator also names its Ed25519 libp2p key (ADR 014); validateAction says when.
  const peerKey = opts.peerKey === undefined ? {} : { peerKey: publicKeyArg(opts.peerKey) };
  const need = (n: number, usage: string) => {
    if (args.length !== n) throw new UsageError(`usage: jrchain gov propose ${name} ${usage}`);
  };
  let action: GovernanceAction;
  switch (name) {
    case 'register-institution':
      need(2, '<id> <name> [--client-key keyId=<hex>]...');
      action = {
        type: 'registerInstitution',
        id: args[0]!,
        name: args[1]!,
        clientKeys: (opts.clientKey ?? []).map((kv) => {
          const [keyId, hex] = kv.split('=') as [string, string];
          return { keyId, publicKey: publicKeyArg(hex) };
        }),
      };
      break;
    case 'add-client-key':
      need(3, '<institution> <keyId> <public key hex>');
      action = {
        type: 'addClientKey',
        institution: args[0]!,
        keyId: args[1]!,
        publicKey: publicKeyArg(args[2]!),
      };
      break;
    case 'revoke-client-key':
      need(2, '<institution> <keyId>');
      action = { type: 'revokeClientKey', institution: args[0]!, keyId: args[1]! };
      break;
    case 'add-validator':
      need(2, '<institution> <public key hex>');
      action = { type: 'addValidator', institution: args[0]!, publicKey: publicKeyArg(args[1]!), ...peerKey };
      break;
    case 'remove-validator':
      need(1, '<institution>');
      action = { type: 'removeValidator', institution: args[0]! };
      break;
    case 'rotate-validator-key':
      need(2, '<institution> <public key hex>');
      action = {
        type: 'rotateValidatorKey',
        institution: args[0]!,
        publicKey: publicKeyArg(args[1]!),
        ...peerKey,
      };
      break;
    case 'set-params': {
      need(1, "'<JSON object of consensus parameters>' (unnamed ones keep their genesis defaults)");
      let parsed: unknown;
      try {
        parsed = JSON.parse(args[0]!);
      } catch {
        throw new UsageError('set-params takes a JSON object');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new UsageError('set-params takes a JSON object');
      const params = { ...DEFAULT_CONSENSUS_PARAMS } as ConsensusParams;
      for (const [k, v] of Object.entries(parsed)) {
        if (!(k in DEFAULT_CONSENSUS_PARAMS)) throw new UsageError(`unknown consensus parameter ${k}`);
        params[k as keyof ConsensusParams] = v as number;
      }
      action = { type: 'setConsensusParams', params };
      break;
    }
    case 'set-role':
      need(2, `<institution> <${ROLE_NAMES.join('|')}>`);
      action = { type: 'setInstitutionRole', institution: args[0]!, role: args[1]! as InstitutionRole };
      break;
    default:
      action = confidentialityAction(name, args, need);
  }
  return action;
}

async function submit(
  io: CliIo,
  client: ApiClient,
  env: TxEnvelope,
  wait: boolean,
): Promise<{ txHash: string; state: string; height?: number; error?: { code: string; message: string } }> {
  const r = await client.request<Record<string, unknown>>(
    'POST',
    `/v1/txs${wait ? '?wait=30000' : ''}`,
    env.bytes,
    45_000,
  );
  const body = r.body as { status?: string; height?: number };
  if (r.status === 200 && body.status === 'committed')
    return { txHash: env.hashHex, state: 'committed', ...(body.height ? { height: body.height } : {}) };
  if (r.status === 202) return { txHash: env.hashHex, state: 'submitted' };
  const err = toError(r);
  io.setExit(ExitCode.failed);
  return { txHash: env.hashHex, state: 'rejected', error: { code: err.code, message: err.message } };
}

function submitText(what: string, r: Awaited<ReturnType<typeof submit>>): string {
  if (r.error) return `${what} REJECTED: ${r.error.code}: ${r.error.message}\n`;
  return `${what} ${r.state}${r.height ? ` at height ${r.height}` : ''}: ${r.txHash}\n`;
}

export function registerGovernanceCommands(program: Command, io: CliIo): void {
  const gov = program
    .command('gov')
    .description('alliance governance: propose changes, approve them, list proposals (validators sign)');
  registerPropose(gov, io);
  registerApprove(gov, io);
  registerList(gov, io);
}

function registerPropose(gov: Command, io: CliIo): void {
  gov
    .command('propose')
    .description(
      'propose an action: register-institution, add-client-key, revoke-client-key, add-validator, remove-validator, rotate-validator-key, set-params',
    )
    .argument('<action>', 'the action')
    .argument('[args...]', "the action's arguments")
    .requiredOption('--key <file>', "this institution's validator key file")
    .option('--client-key <keyId=hex>', 'register-institution: a client key (repeatable)', clientKeyOption)
    .option('--peer-key <hex>', 'add-/rotate-validator on an sm2-sm3 chain: its Ed25519 libp2p public key')
    .option('--deadline-hours <h>', 'expires unless approved by a quorum within this many hours (default 24)')
    .option('--wait', 'wait until the proposal is committed')
    .option(...NODE_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        name: string,
        args: string[],
        opts: {
          key: string;
          clientKey?: string[];
          peerKey?: string;
          deadlineHours?: string;
          wait?: boolean;
          node?: string;
          json?: boolean;
        },
      ) => {
        const parsed = parseAction(name, args, opts);
        const hours = Number(opts.deadlineHours ?? 24);
        if (!(hours > 0) || hours * HOUR_MS > Limits.governanceMaxDeadlineMs)
          throw new UsageError(
            `--deadline-hours must be in (0, ${Limits.governanceMaxDeadlineMs / HOUR_MS}]`,
          );
        const client = new ApiClient(nodeUrl(opts.node));
        const id = await resolveValidator(client, opts.key);
        const action = checkedAction(parsed, cryptoSuite(id.key.suite));
        const now = Date.now();
        const env = governanceTx(
          id,
          { kind: 'propose', deadline: now + Math.round(hours * HOUR_MS), action },
          now,
        );
        const r = await submit(io, client, env, opts.wait === true);
        emit(
          io,
          opts.json === true,
          { proposalId: env.hashHex, ...r },
          () =>
            submitText(`proposal by ${id.institution}`, r) +
            (r.error
              ? ''
              : `proposal id ${env.hashHex}; other validators approve it with: jrchain gov approve ${env.hashHex}\n`),
        );
      },
    );
}

function registerApprove(gov: Command, io: CliIo): void {
  gov
    .command('approve')
    .description('approve a pending proposal with this validator key')
    .argument('<id>', 'the proposal id (its tx hash)')
    .requiredOption('--key <file>', "this institution's validator key file")
    .option('--wait', 'wait until the approval is committed')
    .option(...NODE_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action(async (idHex: string, opts: { key: string; wait?: boolean; node?: string; json?: boolean }) => {
      const proposalId = tryFromHex(idHex);
      if (proposalId === undefined || proposalId.length !== 32)
        throw new UsageError('the proposal id is 32 bytes of hex');
      const client = new ApiClient(nodeUrl(opts.node));
      const id = await resolveValidator(client, opts.key);
      const env = governanceTx(id, { kind: 'approve', proposalId }, Date.now());
      const r = await submit(io, client, env, opts.wait === true);
      let status: string | undefined;
      if (r.state === 'committed') {
        status = (await fetchGovernance(client)).proposals.find((p) => p.id === idHex.toLowerCase())?.status;
      }
      emit(
        io,
        opts.json === true,
        { proposalId: idHex.toLowerCase(), ...r, proposalStatus: status ?? null },
        () => submitText(`approval by ${id.institution}`, r) + (status ? `proposal is now ${status}\n` : ''),
      );
    });
}

function registerList(gov: Command, io: CliIo): void {
  gov
    .command('list')
    .description('list proposals (pending, passed, failed, expired) and the validator set in force')
    .option('--status <s>', 'only proposals with this status')
    .option(...NODE_OPTION)
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { status?: string; node?: string; json?: boolean }) => {
      if (opts.status !== undefined && !['pending', 'passed', 'failed', 'expired'].includes(opts.status))
        throw new UsageError('--status is one of pending, passed, failed, expired');
      const g = await fetchGovernance(new ApiClient(nodeUrl(opts.node)));
      // The node judges expiry at block times; in a quiet chain a deadline can pass before the next block.
      const now = Date.now();
      for (const p of g.proposals)
        if (p.status === 'pending' && Date.parse(p.deadline) < now) p.status = 'expired';
      const proposals = g.proposals.filter((p) => opts.status === undefined || p.status === opts.status);
      const vs = g.validatorSet;
      emit(io, opts.json === true, { validatorSet: vs, proposals }, () => {
        const lines = [
          `validator set (epoch ${vs.epoch}, from height ${vs.firstHeight}): ` +
            `${vs.validators.map((v) => v.institution).join(', ')}; n=${vs.n}, quorum ${vs.quorum}`,
        ];
        if (proposals.length === 0) lines.push('no proposals');
        for (const p of proposals) {
          lines.push(
            `${p.id.slice(0, 16)}…  ${p.status.padEnd(8)} ${p.action.description}` +
              `  (by ${p.proposer} at height ${p.height}; approvals ${p.approvals.length}/${vs.quorum}: ${p.approvals.join(', ')}` +
              `${p.effectiveHeight ? `; in force from height ${p.effectiveHeight}` : ''}` +
              `${p.status === 'pending' ? `; deadline ${p.deadline}` : ''}${p.note ? `; ${p.note}` : ''})`,
          );
        }
        return `${lines.join('\n')}\n`;
      });
    });
}
