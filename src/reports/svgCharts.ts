/**
 * Inline SVG charts for the HTML report: no script, no external resource, readable without a browser plugin.
 * A line chart over time, a timeline of spans (the cutover's write pause) and a grid of verdict cells
 * (per-partition verification). Pure string builders; every text is escaped.
 */
import { escapeHtml } from './html';

export interface Series {
  name: string;
  color: string;
  points: { t: number; v: number }[];
}

const W = 720;
const H = 220;
const PAD = { left: 64, right: 16, top: 28, bottom: 36 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(a < 10 ? 2 : 1)}`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** A line chart of one or more series over time (ms since the epoch); `unit` labels the y axis. */
export function lineChart(title: string, unit: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  const cls = 'km-chart km-line';
  if (!all.length) return `<figure class="${cls}"><figcaption>${escapeHtml(title)}</figcaption><p>(no samples yet)</p></figure>`;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const span = Math.max(1, t1 - t0);
  const yMax = niceMax(Math.max(...all.map((p) => p.v)));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + ((t - t0) / span) * iw;
  const y = (v: number) => PAD.top + ih - (v / yMax) * ih;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e6ec"/>`,
      `<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${escapeHtml(shortNumber(v))}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (span * i) / 4;
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}" font-size="11" fill="#555">${clock(t)}</text>`,
    );
  }
  parts.push(`<text x="14" y="${PAD.top + ih / 2}" font-size="11" fill="#555" transform="rotate(-90 14 ${PAD.top + ih / 2})" text-anchor="middle">${escapeHtml(unit)}</text>`);
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const pts = s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    parts.push(`<polyline class="km-series" data-series="${escapeHtml(s.name)}" data-points="${s.points.length}" fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    if (s.points.length === 1) parts.push(`<circle cx="${x(s.points[0].t).toFixed(1)}" cy="${y(s.points[0].v).toFixed(1)}" r="3" fill="${s.color}"/>`);
    parts.push(
      `<rect x="${PAD.left + i * 170}" y="8" width="10" height="10" fill="${s.color}"/><text x="${PAD.left + 14 + i * 170}" y="17" font-size="12">${escapeHtml(s.name)}</text>`,
    );
  });
  parts.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + ih}" stroke="#999"/>`);
  parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + ih}" y2="${PAD.top + ih}" stroke="#999"/>`);
  return `<figure class="${cls}"><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}

export interface Span {
  label: string;
  from: number;
  to: number;
  color: string;
}

/** A timeline of spans (ms since the epoch) on one axis, one row per span, with each span's duration. */
export function timelineChart(title: string, spans: Span[]): string {
  const cls = 'km-chart km-timeline';
  if (!spans.length) return `<figure class="${cls}"><figcaption>${escapeHtml(title)}</figcaption><p>(no cutover yet)</p></figure>`;
  const t0 = Math.min(...spans.map((s) => s.from));
  const t1 = Math.max(...spans.map((s) => s.to));
  const span = Math.max(1, t1 - t0);
  const left = 190;
  const iw = W - left - 90;
  const row = 26;
  const h = PAD.top + spans.length * row + 24;
  const x = (t: number) => left + ((t - t0) / span) * iw;
  const parts = spans.map((s, i) => {
    const y = PAD.top + i * row;
    const width = Math.max(2, x(s.to) - x(s.from));
    return (
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${escapeHtml(s.label)}</text>` +
      `<rect class="km-span" data-ms="${s.to - s.from}" x="${x(s.from).toFixed(1)}" y="${y + 3}" width="${width.toFixed(1)}" height="16" fill="${s.color}" rx="2"/>` +
      `<text x="${(x(s.from) + width + 6).toFixed(1)}" y="${y + 15}" font-size="11" fill="#333">${((s.to - s.from) / 1000).toFixed(2)} s</text>`
    );
  });
  parts.push(`<text x="${left}" y="${h - 6}" font-size="11" fill="#555">${clock(t0)}</text>`);
  parts.push(`<text x="${left + iw}" y="${h - 6}" font-size="11" fill="#555" text-anchor="end">${clock(t1)}</text>`);
  return `<figure class="${cls}"><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}

export interface Cell {
  label: string;
  ok: boolean;
  /** Shown on hover (SVG <title>): what was compared or what differs. */
  detail: string;
}

/** A grid of verdict cells (green: equal, red: mismatch), e.g. one per partition, with a count. */
export function verdictGrid(title: string, cells: Cell[]): string {
  const cls = 'km-chart km-grid';
  if (!cells.length) return `<figure class="${cls}"><figcaption>${escapeHtml(title)}</figcaption><p>(not verified yet)</p></figure>`;
  const size = 22;
  const gap = 3;
  const perRow = Math.floor((W - 8) / (size + gap));
  const rows = Math.ceil(cells.length / perRow);
  const h = rows * (size + gap) + 8;
  const parts = cells.map((c, i) => {
    const cx = 4 + (i % perRow) * (size + gap);
    const cy = 4 + Math.floor(i / perRow) * (size + gap);
    return `<rect class="km-cell ${c.ok ? 'ok' : 'mismatch'}" x="${cx}" y="${cy}" width="${size}" height="${size}" rx="3" fill="${c.ok ? '#2e9d5b' : '#d0342c'}"><title>${escapeHtml(`${c.label}: ${c.detail}`)}</title></rect>`;
  });
  const bad = cells.filter((c) => !c.ok).length;
  const caption = `${title}: ${cells.length - bad} of ${cells.length} equal${bad ? `, ${bad} mismatched` : ''}`;
  return `<figure class="${cls}"><figcaption>${escapeHtml(caption)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${escapeHtml(caption)}">${parts.join('')}</svg></figure>`;
}
