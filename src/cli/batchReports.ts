/**
 * The detail reports of each batch that `report` includes: its offset translation and its verification, read
 * from the paths the batch recorded (Markdown; the JSON sits beside it). The worker wrote them: on another
 * machine a path may not exist, which the report then says instead of failing.
 */
import { readFileSync } from 'node:fs';
import type { BatchStatus, BatchSummary } from '../types';

/** One detail report: its Markdown and JSON, or why they could not be read. */
export interface DetailReport {
  markdownPath: string;
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
}

/** The paths a batch recorded: its live status's reports, else those its summary carries. */
function pathsOf(summary: BatchSummary, live: BatchStatus | undefined): Record<string, string> {
  return { ...(summary.reports ?? {}), ...(live?.reports ?? {}) };
}

function readDetail(markdownPath: string): DetailReport {
  const jsonPath = markdownPath.replace(/\.md$/, '.json');
  try {
    return { markdownPath, markdown: readFileSync(markdownPath, 'utf8'), json: JSON.parse(readFileSync(jsonPath, 'utf8')) as unknown };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { markdownPath, error: `not readable here (${err.code ?? err.message}); it was written by the worker` };
  }
}

/** The verdict a verification report's JSON holds (VerificationReport: ok, mismatches[]). */
function verdictOf(json: unknown): BatchReports['verification'] {
  const r = json as { ok?: unknown; mismatches?: unknown } | undefined;
  if (typeof r?.ok !== 'boolean') return undefined;
  return { ok: r.ok, mismatchCount: Array.isArray(r.mismatches) ? r.mismatches.length : 0 };
}

export function readBatchReports(summaries: BatchSummary[], statuses: BatchStatus[]): BatchReports[] {
  return summaries
    .filter((b) => b.state !== 'pending' && b.state !== 'skipped')
    .map((b) => {
      const paths = pathsOf(
        b,
        statuses.find((s) => s.number === b.number),
      );
      const offsets = paths.offsets ? readDetail(paths.offsets) : undefined;
      const verificationReport = paths.verification ? readDetail(paths.verification) : undefined;
      const verification = b.verification ?? verdictOf(verificationReport?.json);
      return {
        number: b.number,
        name: b.name,
        ...(verification ? { verification } : {}),
        ...(offsets ? { offsets } : {}),
        ...(verificationReport ? { verificationReport } : {}),
      };
    });
}
