/**
 * The detail reports of each batch that `report` includes: its offset translation and its verification, and its
 * rollback's reports when its window rolled back. A worker wrote each to its own disk and to the target's report
 * store (src/reports/reportStore.ts). They are read from the recorded paths when this machine has the files, else
 * taken from the store through a read-only look on a worker (fillFromStore); each says where it came from.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { LookedReport } from '../activities/readOnly';
import type { BatchStatus, BatchSummary, WindowSummary } from '../types';

/** One detail report: its Markdown and JSON and where they came from, or why they could not be read. */
export interface DetailReport {
  /** The report's name: its files are `<fileStem>.md|json`, its record in the store `<migration>/<fileStem>`. */
  fileStem: string;
  /** The path the workflow recorded: on the disk of the worker that wrote it. */
  markdownPath: string;
  /** `local file` (this machine has it) or `report store` (the target's, read by a worker). */
  source?: 'local file' | 'report store';
  /** The worker that wrote it, when the store says. */
  writtenBy?: string;
  writtenAt?: string;
  markdown?: string;
  json?: unknown;
  error?: string;
}

export interface BatchReports {
  number: number;
  name: string;
  /** The verification verdict: from the migration's summary, else from the verification report. */
  verification?: { ok: boolean; mismatchCount: number };
  offsets?: DetailReport;
  verificationReport?: DetailReport;
  /** The reports of the batch's rollback window (rollback offsets, rollback verification, window), when it has some. */
  rollback?: DetailReport[];
}

/** The paths a batch recorded: its live status's reports, else those its summary carries. */
function pathsOf(summary: BatchSummary, live: BatchStatus | undefined): Record<string, string> {
  return { ...(summary.reports ?? {}), ...(live?.reports ?? {}) };
}

function readDetail(markdownPath: string): DetailReport {
  const fileStem = basename(markdownPath).replace(/\.md$/, '');
  const jsonPath = markdownPath.replace(/\.md$/, '.json');
  try {
    return {
      fileStem,
      markdownPath,
      source: 'local file',
      markdown: readFileSync(markdownPath, 'utf8'),
      json: JSON.parse(readFileSync(jsonPath, 'utf8')) as unknown,
    };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { fileStem, markdownPath, error: `not readable here (${err.code ?? err.message}); it was written by a worker, on its disk` };
  }
}

/** The verdict a verification report's JSON holds (VerificationReport: ok, mismatches[]). */
function verdictOf(json: unknown): BatchReports['verification'] {
  const r = json as { ok?: unknown; mismatches?: unknown } | undefined;
  if (typeof r?.ok !== 'boolean') return undefined;
  return { ok: r.ok, mismatchCount: Array.isArray(r.mismatches) ? r.mismatches.length : 0 };
}

/** Each started batch's detail reports, from this machine's disk where it has them (see fillFromStore for the rest). */
export function readBatchReports(summaries: BatchSummary[], statuses: BatchStatus[], windows: WindowSummary[] = []): BatchReports[] {
  return summaries
    .filter((b) => b.state !== 'pending' && b.state !== 'skipped')
    .map((b) => {
      const paths = pathsOf(
        b,
        statuses.find((s) => s.number === b.number),
      );
      const offsets = paths.offsets ? readDetail(paths.offsets) : undefined;
      const verificationReport = paths.verification ? readDetail(paths.verification) : undefined;
      const rollback = Object.values(windows.find((w) => w.batch === b.number)?.reports ?? {}).map(readDetail);
      const verification = b.verification ?? verdictOf(verificationReport?.json);
      return {
        number: b.number,
        name: b.name,
        ...(verification ? { verification } : {}),
        ...(offsets ? { offsets } : {}),
        ...(verificationReport ? { verificationReport } : {}),
        ...(rollback.length ? { rollback } : {}),
      };
    });
}

function detailsOf(r: BatchReports): DetailReport[] {
  return [r.offsets, r.verificationReport, ...(r.rollback ?? [])].filter((d): d is DetailReport => d !== undefined);
}

/** The file stems of the detail reports this machine could not read: what to ask the report store for. */
export function unreadStems(reports: BatchReports[]): string[] {
  return [
    ...new Set(
      reports
        .flatMap(detailsOf)
        .filter((d) => d.markdown === undefined)
        .map((d) => d.fileStem),
    ),
  ];
}

/**
 * Completes the reports this machine could not read with what the store gave (by file stem). A report the store has
 * not keeps its local error, followed by the store's. The verdicts are re-read from verification reports gained.
 */
export function fillFromStore(reports: BatchReports[], stored: Map<string, LookedReport>): BatchReports[] {
  const fill = (d: DetailReport | undefined): DetailReport | undefined => {
    if (!d || d.markdown !== undefined) return d;
    const s = stored.get(d.fileStem);
    if (!s) return d;
    const from = s.manifest ? { writtenBy: s.manifest.writtenBy, writtenAt: s.manifest.writtenAt } : {};
    if (s.markdown === undefined) return { ...d, ...from, error: `${d.error ?? 'not readable here'}; report store: ${s.error ?? 'nothing'}` };
    return {
      fileStem: d.fileStem,
      markdownPath: d.markdownPath,
      source: 'report store',
      ...from,
      markdown: s.markdown,
      ...(s.json !== undefined ? { json: s.json } : {}),
      ...(s.error ? { error: s.error } : {}),
    };
  };
  return reports.map((r) => {
    const offsets = fill(r.offsets);
    const verificationReport = fill(r.verificationReport);
    const rollback = r.rollback?.map((d) => fill(d)!);
    const verification = r.verification ?? verdictOf(verificationReport?.json);
    return {
      ...r,
      ...(verification ? { verification } : {}),
      ...(offsets ? { offsets } : {}),
      ...(verificationReport ? { verificationReport } : {}),
      ...(rollback ? { rollback } : {}),
    };
  });
}

/** One line saying where a detail report came from (the report prints it above the report). */
export function sourceLine(d: DetailReport): string {
  if (d.source === 'local file') return `_${d.fileStem}: read from ${d.markdownPath} on this machine_`;
  if (d.source === 'report store')
    return `_${d.fileStem}: from the target's report store (written${d.writtenBy ? ` by worker ${d.writtenBy}` : ''}${d.writtenAt ? ` at ${d.writtenAt}` : ''}; its file ${d.markdownPath} is on that worker's disk)_`;
  return `_${d.fileStem}: not available: ${d.error ?? 'unknown'}_`;
}
