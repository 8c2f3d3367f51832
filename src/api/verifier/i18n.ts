/**
 * The verification page's words in English and Chinese. Each check has a title, what it proves, and what a
 * failure means in plain language; the verifier's own technical detail is shown under it.
 */
export type Lang = 'en' | 'zh';

type Text = Record<Lang, string>;
const t = (en: string, zh: string): Text => ({ en, zh });

export const UI: Record<string, Text> = {
  title: t('Verify a JRChain receipt', '验证 JRChain 存证回执'),
  intro: t(
    'Checks, on this computer, that a document was recorded on the chain, when, and by whom. The document never leaves this computer: only its hash is computed, here.',
    '在本机核验文件是否已记录在链上、记录时间及记录机构。文件不会离开本机：仅在本机计算其哈希值。',
  ),
  document: t('1. Document', '1. 文件'),
  documentHint: t('Drop the document here, or choose it', '将文件拖放到此处，或选择文件'),
  receipt: t('2. Receipt', '2. 回执'),
  receiptHint: t(
    'Drop the receipt (.json) here, choose it, or paste it below',
    '将回执（.json）拖放到此处、选择文件，或粘贴在下方',
  ),
  genesis: t('3. Genesis of the chain you trust', '3. 您信任的链的创世文件'),
  genesisHint: t('Drop genesis.json here, or choose it', '将 genesis.json 拖放到此处，或选择文件'),
  fetchTitle: t('Or fetch the receipt and genesis from a node', '或从节点获取回执和创世文件'),
  fetchHint: t(
    'Only the document’s hash is sent. A genesis fetched from a node is only as trustworthy as the node: compare its hash with the one your institution published.',
    '仅发送文件的哈希值。从节点获取的创世文件的可信度取决于该节点：请与贵机构公布的哈希值核对。',
  ),
  nodeUrl: t('Node URL', '节点地址'),
  fetch: t('Fetch', '获取'),
  verify: t('Verify', '验证'),
  print: t('Print report', '打印报告'),
  chosen: t('Chosen:', '已选择：'),
  none: t('nothing yet', '尚未选择'),
  pasted: t('pasted text', '粘贴的文本'),
  fetched: t('fetched from', '获取自'),
  proven: t('PROVEN', '已证明'),
  provenText: t('Every check passed.', '所有检查均已通过。'),
  provenNoDoc: t(
    'Every check passed, but no document was compared: this proves the receipt, not a file.',
    '所有检查均已通过，但未比对文件：这只证明回执本身，不证明某一文件。',
  ),
  notProven: t('NOT PROVEN', '未能证明'),
  notProvenText: t('This check failed:', '以下检查未通过：'),
  working: t('Verifying…', '正在验证…'),
  fingerprint: t('Receipt fingerprint (SHA-256)', '回执指纹（SHA-256）'),
  chain: t('Chain', '链'),
  genesisHash: t('Genesis hash', '创世哈希'),
  institution: t('Recorded by', '记录机构'),
  signingKey: t('Signing key', '签名密钥'),
  caseId: t('Case', '案件'),
  evidenceType: t('Evidence type', '证据类型'),
  label: t('Label', '标签'),
  documentHash: t('Document hash', '文件哈希'),
  block: t('Block', '区块'),
  blockTime: t('Block time', '区块时间'),
  committedBy: t('Certified by validators', '验证节点签署'),
  anchoredAt: t('Existed no later than (RFC 3161)', '最迟存在时间（RFC 3161）'),
  tsaAnchor: t('Time-stamp authority (anchor)', '时间戳机构（锚定）'),
  tsaEvidence: t('Time-stamp authority (evidence token)', '时间戳机构（证据时间戳）'),
  status: t('Case status', '案件状态'),
  events: t('Events', '事件'),
  checks: t('Checks', '检查项'),
  pass: t('passed', '通过'),
  fail: t('FAILED', '未通过'),
  skip: t('not applicable', '不适用'),
  notRun: t('not reached', '未执行'),
  receiptN: t('Receipt', '回执'),
  footer: t(
    'Verification runs in this page, offline. How it works: docs/receipts.md.',
    '验证在本页面内离线完成。原理见 docs/receipts.md。',
  ),
  notJson: t('is not valid JSON', '不是有效的 JSON'),
  badGenesis: t('is not a JRChain genesis', '不是 JRChain 创世文件'),
  noReceipts: t('The node holds no receipt for this document.', '该节点没有此文件的回执。'),
  needReceipt: t('Give a receipt first.', '请先提供回执。'),
  needGenesis: t('Give the genesis of the chain you trust.', '请提供您信任的链的创世文件。'),
  needDocument: t(
    'Choose the document first: its hash is what the node is asked for.',
    '请先选择文件：向节点查询的是其哈希值。',
  ),
  fetchFailed: t('Could not fetch from the node:', '无法从节点获取：'),
  otherOrigin: t(
    'This page may only fetch from the node that served it. Open /verify on that node instead.',
    '本页面只能从提供它的节点获取数据。请改为打开该节点的 /verify 页面。',
  ),
  offline: t('This file works offline and fetches nothing.', '此文件离线运行，不访问网络。'),
};

export const CHECKS: Record<string, { title: Text; proves: Text; failed: Text }> = {
  format: {
    title: t('Receipt format', '回执格式'),
    proves: t('The file is a JRChain receipt in a known format.', '该文件是已知格式的 JRChain 回执。'),
    failed: t('This is not a JRChain receipt, or it was edited.', '这不是 JRChain 回执，或已被修改。'),
  },
  genesis: {
    title: t('Chain and genesis', '链与创世文件'),
    proves: t(
      'The receipt belongs to the chain of the genesis you gave.',
      '回执属于您提供的创世文件所定义的链。',
    ),
    failed: t(
      'The receipt comes from another chain than the genesis you gave.',
      '回执来自与您提供的创世文件不同的链。',
    ),
  },
  header: {
    title: t('Block header', '区块头'),
    proves: t('The block that holds the record is well formed.', '记录所在区块格式正确。'),
    failed: t('The block header was altered or is malformed.', '区块头被篡改或格式错误。'),
  },
  governance: {
    title: t('Governance history', '治理历史'),
    proves: t(
      'Every change of members, keys and validators before the block is replayed and certified.',
      '区块之前的成员、密钥和验证节点变更均已重放并经认证。',
    ),
    failed: t(
      'The history of members and keys in the receipt does not hold.',
      '回执中的成员与密钥变更历史不成立。',
    ),
  },
  validatorSet: {
    title: t('Validator set', '验证节点集合'),
    proves: t('The validators are those in force at that block.', '验证节点为该区块时有效的集合。'),
    failed: t(
      'The validator set is not the one in force at that block.',
      '验证节点集合不是该区块时有效的集合。',
    ),
  },
  certificate: {
    title: t('Commit certificate', '提交证书'),
    proves: t('A quorum of validators signed the block.', '达到法定数量的验证节点签署了该区块。'),
    failed: t('The validators’ signatures on the block do not hold.', '验证节点对区块的签名不成立。'),
  },
  tx: {
    title: t('Transaction', '交易'),
    proves: t('The recorded transaction is intact.', '所记录的交易完整无损。'),
    failed: t('The transaction was altered.', '交易已被篡改。'),
  },
  signature: {
    title: t('Signing institution and key', '签名机构与密钥'),
    proves: t(
      'The institution signed the record with a key registered to it.',
      '该机构使用其登记的密钥签署了记录。',
    ),
    failed: t('The institution’s signature does not hold.', '机构签名不成立。'),
  },
  inclusion: {
    title: t('Inclusion proof', '包含证明'),
    proves: t(
      'The transaction is in the certified block (Merkle proof).',
      '交易包含在经认证的区块中（默克尔证明）。',
    ),
    failed: t('The transaction is not proven to be in the block.', '无法证明交易包含在区块中。'),
  },
  evidence: {
    title: t('Evidence record', '证据记录'),
    proves: t('The record names the document’s hash, case and type.', '记录载明文件哈希、案件和类型。'),
    failed: t('The evidence record is malformed.', '证据记录格式错误。'),
  },
  file: {
    title: t('Document hash', '文件哈希'),
    proves: t('The document you gave is the one recorded.', '您提供的文件就是所记录的文件。'),
    failed: t('The document you gave is NOT the one recorded.', '您提供的文件不是所记录的文件。'),
  },
  anchor: {
    title: t('RFC 3161 time (anchor)', 'RFC 3161 时间（锚定）'),
    proves: t(
      'A trusted time-stamp authority proves the block existed no later than the time shown.',
      '可信时间戳机构证明该区块最迟存在于所示时间。',
    ),
    failed: t('The trusted time stamp does not hold.', '可信时间戳不成立。'),
  },
  archive: {
    title: t('Long-term time (RFC 4998 archive)', '长期时间证明（RFC 4998 归档）'),
    proves: t(
      'Archive time stamps, renewed before each expired, prove the document’s hash existed no later than the time shown, even after the first time-stamp certificate expired.',
      '在每次到期前续期的归档时间戳证明文件哈希最迟存在于所示时间，即使首个时间戳证书已过期。',
    ),
    failed: t('The archive time stamps do not hold.', '归档时间戳不成立。'),
  },
  archiveStamp: {
    title: t('Archive time stamp', '归档时间戳'),
    proves: t(
      'The TSA stamped the hash tree holding the document’s hash.',
      '时间戳机构对包含文件哈希的哈希树加盖了时间戳。',
    ),
    failed: t('The archive time stamp does not hold.', '归档时间戳不成立。'),
  },
  renewal: {
    title: t('Renewal', '续期'),
    proves: t(
      'A newer time stamp covers the earlier ones, made before their certificates expired.',
      '在先前证书到期前，新的时间戳覆盖了先前的时间戳。',
    ),
    failed: t('The renewal does not hold.', '续期不成立。'),
  },
  evidenceToken: {
    title: t('RFC 3161 time (evidence)', 'RFC 3161 时间（证据）'),
    proves: t('The institution’s own time stamp of the document holds.', '机构为文件申请的时间戳成立。'),
    failed: t('The document’s own time stamp does not hold.', '文件自身的时间戳不成立。'),
  },
  summary: {
    title: t('Summary', '摘要'),
    proves: t('The readable summary says what the signed data says.', '可读摘要与已签名的数据一致。'),
    failed: t('The readable summary was altered.', '可读摘要已被篡改。'),
  },
  events: {
    title: t('Case events', '案件事件'),
    proves: t('Each event was signed and certified on the chain.', '每个事件均已签名并在链上认证。'),
    failed: t('A case event does not hold.', '某个案件事件不成立。'),
  },
  timeline: {
    title: t('Case timeline', '案件时间线'),
    proves: t('The events follow the case rules, in order.', '事件按顺序符合案件规则。'),
    failed: t('The case events do not form a valid timeline.', '案件事件未构成有效的时间线。'),
  },
};

/** The page's language: a saved choice, else the browser's, else English. */
export function initialLang(saved: string | null, languages: readonly string[]): Lang {
  if (saved === 'en' || saved === 'zh') return saved;
  return languages.some((l) => l.toLowerCase().startsWith('zh')) ? 'zh' : 'en';
}
