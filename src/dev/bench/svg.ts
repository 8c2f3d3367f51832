/**
 * Hand-written SVG charts for the performance report (docs/performance-report.md): a line chart of series over
 * time and a bar chart (the latency histogram). Plain SVG 1.1 text, no dependency; pure functions.
 */

export interface LineSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartText {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
}

const W = 720;
const H = 360;
const M = { left: 70, right: 20, top: 40, bottom: 50 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

/** A "nice" axis maximum: 1, 2 or 5 × a power of ten, at or above `v`. */
export function niceMax(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

interface Frame {
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
  readonly parts: string[];
}

function frame(text: ChartText, xMax: number, yMax: number): Frame {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + (v / xMax) * pw;
  const y = (v: number) => M.top + ph - (v / yMax) * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(text.title)}</text>`,
    `<text x="${W / 2}" y="${H - 10}" text-anchor="middle">${esc(text.xLabel)}</text>`,
    `<text x="16" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(text.yLabel)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const yv = (yMax * i) / 5;
    const xv = (xMax * i) / 5;
    parts.push(
      `<line x1="${M.left}" y1="${y(yv)}" x2="${W - M.right}" y2="${y(yv)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y(yv) + 4}" text-anchor="end">${fmt(yv)}</text>`,
      `<text x="${x(xv)}" y="${M.top + ph + 18}" text-anchor="middle">${fmt(xv)}</text>`,
    );
  }
  parts.push(
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top + ph}" x2="${W - M.right}" y2="${M.top + ph}" stroke="black"/>`,
  );
  return { x, y, parts };
}

/** Lines over a shared x axis from 0; non-finite points (a second without samples) break the line. */
export function lineChart(text: ChartText, series: readonly LineSeries[]): string {
  const all = series.flatMap((s) => s.points).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const f = frame(
    text,
    niceMax(Math.max(1, ...all.map((p) => p[0]))),
    niceMax(Math.max(...all.map((p) => p[1]), 1)),
  );
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    let d = '';
    let pen = 'M';
    for (const [a, b] of s.points) {
      if (!Number.isFinite(a) || !Number.isFinite(b)) {
        pen = 'M';
        continue;
      }
      d += `${pen}${f.x(a).toFixed(1)},${f.y(b).toFixed(1)} `;
      pen = 'L';
    }
    f.parts.push(`<path d="${d.trim()}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    const ly = M.top + 14 + 16 * k;
    f.parts.push(
      `<line x1="${W - M.right - 150}" y1="${ly - 4}" x2="${W - M.right - 130}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${W - M.right - 125}" y="${ly}">${esc(s.name)}</text>`,
    );
  });
  f.parts.push('</svg>');
  return `${f.parts.join('\n')}\n`;
}

/** Bars of `counts`, bin i covering [i × binWidth, (i+1) × binWidth) on the x axis. */
export function barChart(text: ChartText, binWidth: number, counts: readonly number[]): string {
  const f = frame(text, niceMax(binWidth * Math.max(1, counts.length)), niceMax(Math.max(1, ...counts)));
  counts.forEach((c, i) => {
    const x0 = f.x(i * binWidth);
    const w = Math.max(1, f.x((i + 1) * binWidth) - x0 - 1);
    f.parts.push(
      `<rect x="${x0.toFixed(1)}" y="${f.y(c).toFixed(1)}" width="${w.toFixed(1)}" height="${(f.y(0) - f.y(c)).toFixed(1)}" fill="${COLORS[0]}"/>`,
    );
  });
  f.parts.push('</svg>');
  return `${f.parts.join('\n')}\n`;
}
