/**
 * The verification page (issue 18, ADR 013): the document, a receipt and the genesis in; the verdict and every
 * check out. Runs in the browser, offline: the document is hashed here with WebCrypto and never sent; the only
 * request it can make is the optional fetch from the node that served it (the exported file makes none).
 */

import { toHex } from '../../core/bytes.ts';
import { digest } from '../../core/crypto.ts';
import type { HashAlg } from '../../core/evidence.ts';
import { type ChainDigests, type ChainHashAlg, laterChainAlgs } from '../../receipt/archive-check.ts';
import { browser, byId, type DomEvent, type FileLike } from './dom.ts';
import { initialLang, type Lang, UI } from './i18n.ts';
import { renderReport } from './render.ts';
import {
  buildReport,
  claimedHashAlg,
  InputProblem,
  isCaseReceipt,
  type PageReport,
  readGenesis,
  readReceipts,
} from './report.ts';

interface Source {
  text: string;
  name: string;
}

const state: {
  lang: Lang;
  document: FileLike | undefined;
  receipt: Source | undefined;
  genesis: Source | undefined;
  reports: PageReport[];
} = { lang: 'en', document: undefined, receipt: undefined, genesis: undefined, reports: [] };

const SUBTLE_ALG: Record<HashAlg, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

function tr(key: string): string {
  return UI[key]?.[state.lang] ?? key;
}

function say(text: string): void {
  const m = byId('message');
  m.textContent = text;
  m.hidden = text === '';
}

function applyLang(lang: Lang): void {
  state.lang = lang;
  browser.document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  browser.document.title = tr('title');
  const nodes = browser.document.body.querySelectorAll('[data-i18n]');
  for (let i = 0; i < nodes.length; i++) nodes[i]!.textContent = tr(nodes[i]!.dataset.i18n ?? '');
  byId('lang').textContent = lang === 'zh' ? 'English' : '中文';
  showChosen();
  showReports();
}

function showChosen(): void {
  const name = (s: { name: string } | undefined) => `${tr('chosen')} ${s?.name ?? tr('none')}`;
  byId('document-name').textContent = name(state.document);
  byId('receipt-name').textContent = name(state.receipt);
  byId('genesis-name').textContent = name(state.genesis);
}

function showReports(): void {
  const out = byId('results');
  out.replaceChildren(...state.reports.map((r, i) => renderReport(r, state.lang, i, state.reports.length)));
  byId('print').hidden = state.reports.length === 0;
}

/** WebCrypto has no SM3: an SM chain's hash comes from the bundled code (core/crypto.ts). */
async function digestOf(file: FileLike, alg: ChainHashAlg): Promise<Uint8Array> {
  const bytes = await file.arrayBuffer();
  if (alg === 'sm3') return digest('sm3', new Uint8Array(bytes));
  return new Uint8Array(await globalThis.crypto.subtle.digest(SUBTLE_ALG[alg], bytes));
}

/** The document's hash under each algorithm of the receipt's later archive chains (ADR 018). */
async function chainDigestsOf(file: FileLike, doc: unknown): Promise<ChainDigests> {
  const out: ChainDigests = {};
  for (const alg of laterChainAlgs(doc)) out[alg] = await digestOf(file, alg);
  return out;
}

async function verifyAll(): Promise<void> {
  say('');
  const receiptText =
    byId('receipt-text').value.trim() !== '' && state.receipt === undefined
      ? { text: byId('receipt-text').value, name: tr('pasted') }
      : state.receipt;
  if (receiptText === undefined) return say(tr('needReceipt'));
  if (state.genesis === undefined) return say(tr('needGenesis'));
  const started = performance.now();
  browser.document.body.dataset.state = 'working';
  byId('verify').disabled = true;
  try {
    const genesis = readGenesis(state.genesis.text);
    const docs = readReceipts(receiptText.text);
    const reports: PageReport[] = [];
    for (const doc of docs) {
      const alg = claimedHashAlg(doc);
      const file = !isCaseReceipt(doc) ? state.document : undefined;
      const digest = file !== undefined ? { hashAlg: alg, hash: await digestOf(file, alg) } : undefined;
      const chains = file !== undefined ? await chainDigestsOf(file, doc) : undefined;
      reports.push(await buildReport(doc, genesis, digest, chains));
    }
    state.reports = reports;
    showReports();
  } catch (err) {
    state.reports = [];
    showReports();
    if (err instanceof InputProblem) say(`${tr(err.field)}: ${tr(err.key)} (${err.message})`);
    else say(String(err));
  } finally {
    byId('verify').disabled = false;
    const body = browser.document.body.dataset;
    body.ms = String(Math.round(performance.now() - started));
    body.runs = String(Number(body.runs ?? '0') + 1);
    body.state = 'done';
  }
}

async function fetchFromNode(): Promise<void> {
  say('');
  if (state.document === undefined) return say(tr('needDocument'));
  let base: URL;
  try {
    base = new URL(byId('node-url').value.trim() || browser.location.origin);
  } catch (err) {
    return say(`${tr('fetchFailed')} ${(err as Error).message}`);
  }
  if (base.origin !== browser.location.origin) return say(tr('otherOrigin'));
  try {
    const hash = toHex(await digestOf(state.document, 'sha256'));
    const get = async (path: string) => {
      const r = await browser.fetch(new URL(path, base).href, { headers: { accept: 'application/json' } });
      if (!r.ok && r.status !== 404) throw new Error(`${path}: HTTP ${r.status}`);
      return r.status === 404 ? '{"receipts":[]}' : r.text();
    };
    const where = `${tr('fetched')} ${base.origin}`;
    state.receipt = { text: await get(`/v1/receipts/${hash}`), name: where };
    state.genesis = { text: await get('/v1/genesis'), name: where };
    showChosen();
    await verifyAll();
  } catch (err) {
    say(`${tr('fetchFailed')} ${(err as Error).message}`);
  }
}

/** A file input and its drop zone, calling `take` with the chosen file. */
function fileInput(prefix: string, take: (f: FileLike) => Promise<void> | void): void {
  const input = byId(`${prefix}-file`);
  const zone = byId(`${prefix}-drop`);
  const pick = (files: ArrayLike<FileLike> | null | undefined) => {
    const f = files?.[0];
    if (f !== undefined) void Promise.resolve(take(f)).then(showChosen);
  };
  input.addEventListener('change', () => pick(input.files));
  zone.addEventListener('dragover', (e: DomEvent) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e: DomEvent) => {
    e.preventDefault();
    zone.classList.remove('over');
    pick(e.dataTransfer?.files);
  });
}

function start(): void {
  let saved: string | null = null;
  try {
    saved = browser.localStorage?.getItem('jrchain-lang') ?? null;
  } catch {
    // Storage can be off (file://, private mode); the browser's language then decides.
  }
  const langs = browser.navigator.languages ?? [browser.navigator.language ?? 'en'];
  fileInput('document', (f) => {
    state.document = f;
  });
  fileInput('receipt', async (f) => {
    state.receipt = { text: await f.text(), name: f.name };
  });
  fileInput('genesis', async (f) => {
    state.genesis = { text: await f.text(), name: f.name };
  });
  byId('receipt-text').addEventListener('input', () => {
    state.receipt = undefined;
    showChosen();
  });
  byId('verify').addEventListener('click', () => void verifyAll());
  byId('fetch').addEventListener('click', () => void fetchFromNode());
  byId('print').addEventListener('click', () => browser.print());
  byId('lang').addEventListener('click', () => {
    const next = state.lang === 'zh' ? 'en' : 'zh';
    try {
      browser.localStorage?.setItem('jrchain-lang', next);
    } catch {
      // Not remembered; the switch still applies.
    }
    applyLang(next);
  });
  // From file:// the page may fetch nothing (its CSP has no connect-src): hide what could not work.
  const served = browser.location.protocol === 'http:' || browser.location.protocol === 'https:';
  byId('fetch-section').hidden = !served;
  byId('offline-note').hidden = served;
  if (served) byId('node-url').value = browser.location.origin;
  applyLang(initialLang(saved, langs));
  browser.document.body.dataset.ready = 'true';
}

start();
