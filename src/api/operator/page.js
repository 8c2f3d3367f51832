// The operator page's script, inlined into page.html (CSP allows it by hash). It only reads public JSON
// endpoints of the node that served it, and renders with textContent: node data is never parsed as HTML.
// A classic script: its top-level const and let stay in the page's own script scope.
const POLL_MS = 2000;
const RECENT_BLOCKS = 8;
const TEXT = {
  en: {
    title: 'JRChain node',
    height: 'Height',
    view: 'View',
    primary: 'Primary',
    consensus: 'Consensus',
    anchorLag: 'Anchoring lag',
    sync: 'Sync',
    validators: 'Validators',
    institution: 'Institution',
    peerId: 'Peer id',
    state: 'State',
    recentBlocks: 'Recent blocks',
    time: 'Time',
    txs: 'Txs',
    proposer: 'Proposer',
    hash: 'Hash',
    updated: 'Updated',
    normal: 'normal',
    viewChange: 'view change',
    idle: 'in sync',
    syncing: 'syncing to',
    blocks: 'blocks',
    noAnchoring: 'not anchoring',
    thisNode: 'this node',
    isPrimary: 'primary',
    connected: 'connected',
    unreachable: 'not connected',
    unreachableNode: 'Cannot reach the node',
    blocksLoopbackOnly: 'Blocks are shown only on the node itself (loopback): they are not public.',
    switchTo: '中文',
  },
  zh: {
    title: 'JRChain 节点',
    height: '区块高度',
    view: '视图',
    primary: '主节点',
    consensus: '共识状态',
    anchorLag: '时间戳锚定延迟',
    sync: '同步',
    validators: '验证节点',
    institution: '机构',
    peerId: '节点标识',
    state: '状态',
    recentBlocks: '最近区块',
    time: '时间',
    txs: '交易数',
    proposer: '提议者',
    hash: '哈希',
    updated: '更新于',
    normal: '正常',
    viewChange: '视图切换中',
    idle: '已同步',
    syncing: '正在同步至',
    blocks: '个区块',
    noAnchoring: '未锚定',
    thisNode: '本节点',
    isPrimary: '主节点',
    connected: '已连接',
    unreachable: '未连接',
    unreachableNode: '无法连接节点',
    blocksLoopbackOnly: '区块仅在节点本机（环回地址）显示：区块不公开。',
    switchTo: 'English',
  },
};

// Storage may be disabled (private windows, strict settings): the language then lasts for the page only.
function stored(value) {
  try {
    if (value === undefined) return localStorage.getItem('jrchain.lang');
    localStorage.setItem('jrchain.lang', value);
  } catch {
    return null;
  }
  return null;
}

const saved = stored();
let lang = saved === 'en' || saved === 'zh' ? saved : /^zh\b/i.test(navigator.language) ? 'zh' : 'en';
let last = null;
let blocks = [];
let blocksRefused = false;
let updatedAt = null;

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[lang][key] ?? key;
const setText = (id, text) => {
  $(id).textContent = text;
};

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function shortHash(h) {
  return typeof h === 'string' && h.length > 16 ? `${h.slice(0, 8)}…${h.slice(-6)}` : String(h ?? '');
}

function peerIds(s) {
  const ids = new Set();
  if (Array.isArray(s.peers))
    for (const p of s.peers) ids.add(typeof p === 'string' ? p : (p?.peerId ?? p?.id ?? ''));
  return ids;
}

function validatorState(s, v, connected) {
  const parts = [];
  if (v.institution === s.institution) parts.push(t('thisNode'));
  else parts.push(connected.has(v.peerId) ? t('connected') : t('unreachable'));
  if (v.institution === s.primary) parts.push(t('isPrimary'));
  return parts.join(' · ');
}

function renderValidators(s) {
  const body = $('validators');
  const connected = peerIds(s);
  body.replaceChildren();
  for (const v of Array.isArray(s.validators) ? s.validators : []) {
    const row = document.createElement('tr');
    row.dataset.institution = String(v.institution);
    cell(row, String(v.institution));
    cell(row, shortHash(v.peerId), 'mono').title = String(v.peerId);
    const ok = v.institution === s.institution || connected.has(v.peerId);
    cell(row, validatorState(s, v, connected), ok ? 'ok' : 'warn');
    body.appendChild(row);
  }
}

function renderBlocks() {
  const body = $('blocks');
  body.replaceChildren();
  for (const b of blocks) {
    const row = document.createElement('tr');
    cell(row, String(b.header.height));
    cell(row, new Date(b.header.time).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB'));
    cell(row, String(b.header.txCount));
    cell(row, String(b.header.proposerInstitution ?? b.header.proposer));
    cell(row, shortHash(b.hash), 'mono').title = String(b.hash);
    body.appendChild(row);
  }
}

function anchorText(a) {
  if (!a) return t('noAnchoring');
  const secs = Math.round((a.lagMs ?? 0) / 1000);
  return `${a.lagBlocks} ${t('blocks')}, ${secs} s`;
}

function syncText(sync) {
  if (!sync || sync.state === 'idle') return t('idle');
  return `${t('syncing')} ${sync.targetHeight ?? '?'}`;
}

function render() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  setText('lang', t('switchTo'));
  if (last) {
    const s = last;
    setText('institution', String(s.institution ?? ''));
    setText('height', String(s.height));
    setText('view', String(s.view));
    setText('primary', String(s.primary ?? '–'));
    setText('consensus', s.consensus === 'viewChange' ? t('viewChange') : t('normal'));
    setText('anchor', anchorText(s.anchor));
    setText('sync', syncText(s.sync));
    setText('chain', `${s.chainId} · ${shortHash(s.genesisHash)}`);
    renderValidators(s);
  }
  renderBlocks();
  $('blocks-note').hidden = !blocksRefused;
  if (updatedAt) setText('updated', updatedAt.toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en-GB'));
}

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store', signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw Object.assign(new Error(`${path}: HTTP ${r.status}`), { status: r.status });
  return r.json();
}

async function loadBlocks(height, known) {
  const have = new Map(known.map((b) => [b.header.height, b]));
  const out = [];
  for (let h = height; h >= 1 && out.length < RECENT_BLOCKS; h--) {
    out.push(have.get(h) ?? (await getJson(`/v1/blocks/${h}`)));
  }
  return out;
}

// Blocks are served unsigned to loopback callers only (ADR 009) and this page never signs: elsewhere the
// section says so instead of failing the whole page.
async function refreshBlocks(s) {
  if (blocksRefused || (last && s.height === last.height && blocks.length > 0)) return;
  try {
    blocks = await loadBlocks(s.height, blocks);
  } catch (err) {
    if (err.status !== 401 && err.status !== 403) throw err;
    blocksRefused = true;
    blocks = [];
  }
}

async function poll() {
  try {
    const s = await getJson('/v1/status');
    await refreshBlocks(s);
    last = s;
    updatedAt = new Date();
    $('error').hidden = true;
  } catch (err) {
    setText('error', `${t('unreachableNode')}: ${err instanceof Error ? err.message : String(err)}`);
    $('error').hidden = false;
  }
  render();
  setTimeout(poll, POLL_MS);
}

$('lang').addEventListener('click', () => {
  lang = lang === 'zh' ? 'en' : 'zh';
  stored(lang);
  render();
});
render();
poll();
