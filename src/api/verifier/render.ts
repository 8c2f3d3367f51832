/** The verification report as DOM, built from text nodes only (every value in a receipt is untrusted). */
import { type El, el } from './dom.ts';
import { CHECKS, type Lang, UI } from './i18n.ts';
import type { PageReport, ReportCheck } from './report.ts';

const ORDER_EVIDENCE = [
  'format',
  'genesis',
  'header',
  'governance',
  'validatorSet',
  'certificate',
  'tx',
  'signature',
  'inclusion',
  'evidence',
  'file',
  'anchor',
  'archive',
  'evidenceToken',
  'summary',
];
const ORDER_CASE = ['format', 'genesis', 'events', 'timeline', 'summary'];

function row(table: El, label: string, value: string): void {
  const tr = el('tr');
  tr.append(el('th', '', label), el('td', 'mono', value));
  table.append(tr);
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

function facts(r: PageReport, lang: Lang): El {
  const table = el('table', 'facts');
  const s = r.summary;
  row(table, UI.fingerprint![lang], r.fingerprint);
  row(table, UI.chain![lang], r.chainId);
  row(table, UI.genesisHash![lang], r.genesisHash);
  if (!r.ok) return table;
  if (r.kind === 'case') {
    row(table, UI.caseId![lang], str(s.caseId));
    row(table, UI.status![lang], str(s.status));
    const events = Array.isArray(s.events) ? s.events : [];
    for (const e of events as Record<string, unknown>[]) {
      row(
        table,
        UI.events![lang],
        `${str(e.event)} · ${str(e.institution)} · ${str(e.blockTime)} · #${str(e.height)}`,
      );
    }
    return table;
  }
  const ev = (s.evidence ?? {}) as Record<string, unknown>;
  row(table, UI.institution![lang], str(s.institution));
  row(table, UI.signingKey![lang], `${str(s.institution)}/${str(s.keyId)}`);
  row(table, UI.caseId![lang], str(ev.caseId));
  row(table, UI.evidenceType![lang], str(ev.evidenceType));
  if (typeof ev.label === 'string') row(table, UI.label![lang], ev.label);
  row(table, UI.documentHash![lang], `${str(ev.hashAlg)} ${str(ev.hash)}`);
  row(table, UI.block![lang], str(s.height));
  row(table, UI.blockTime![lang], str(s.blockTime));
  row(table, UI.committedBy![lang], Array.isArray(s.committedBy) ? s.committedBy.map(str).join(', ') : '');
  if (typeof s.anchoredAt === 'string') row(table, UI.anchoredAt![lang], s.anchoredAt);
  for (const tk of r.tokens) {
    const label = tk.which === 'anchor' ? UI.tsaAnchor![lang] : UI.tsaEvidence![lang];
    row(table, label, `${tk.genTime.toISOString()} · ${tk.chain.join(' ← ')}`);
  }
  return table;
}

function checkItem(name: string, c: ReportCheck | undefined, lang: Lang): El {
  const status = c?.status ?? 'notRun';
  const li = el('li', `check ${status}`);
  li.dataset.check = name;
  li.dataset.status = status;
  const words = CHECKS[name];
  const head = el('div', 'check-head');
  head.append(el('span', 'mark', status === 'pass' ? '✔' : status === 'fail' ? '✘' : '–'));
  head.append(el('span', 'check-title', words ? words.title[lang] : name));
  head.append(el('span', 'check-status', UI[status]![lang]));
  li.append(head);
  if (words)
    li.append(el('div', 'check-proves', status === 'fail' ? words.failed[lang] : words.proves[lang]));
  if (c !== undefined && c.detail !== '') {
    li.append(el('div', 'check-detail mono', c.code ? `${c.code}: ${c.detail}` : c.detail));
  }
  return li;
}

/** One receipt's section: the verdict, the facts and every check (those never reached shown as such). */
export function renderReport(r: PageReport, lang: Lang, index: number, count: number): El {
  const section = el('section', `report ${r.ok ? 'ok' : 'failed'}`);
  section.dataset.verdict = r.ok ? 'proven' : 'not-proven';
  if (count > 1) section.append(el('h2', '', `${UI.receiptN![lang]} ${index + 1} / ${count}`));
  const verdict = el('div', 'verdict');
  verdict.append(el('strong', '', r.ok ? UI.proven![lang] : UI.notProven![lang]));
  const failed = r.checks.find((c) => c.status === 'fail');
  const explain = r.ok
    ? r.kind === 'evidence' && !r.documentChecked
      ? UI.provenNoDoc![lang]
      : UI.provenText![lang]
    : `${UI.notProvenText![lang]} ${CHECKS[failed?.name ?? '']?.title[lang] ?? failed?.name ?? ''} — ${CHECKS[failed?.name ?? '']?.failed[lang] ?? ''}`;
  verdict.append(el('span', 'verdict-text', explain));
  if (failed) verdict.dataset.failedCheck = failed.name;
  section.append(verdict, facts(r, lang), el('h3', '', UI.checks![lang]));
  const list = el('ol', 'checks');
  for (const name of r.kind === 'case' ? ORDER_CASE : ORDER_EVIDENCE) {
    list.append(
      checkItem(
        name,
        r.checks.find((c) => c.name === name),
        lang,
      ),
    );
    // The archive's chain, one line per timestamp: the archive token, then each renewal.
    if (name !== 'archive') continue;
    for (const [i, a] of r.archive.entries()) {
      const detail = `${i === 0 ? '' : `#${i} · `}${a.genTime} · ${a.signer} · valid until ${a.validUntil}`;
      list.append(checkItem(i === 0 ? 'archiveStamp' : 'renewal', { name, status: 'pass', detail }, lang));
    }
  }
  section.append(list);
  return section;
}
