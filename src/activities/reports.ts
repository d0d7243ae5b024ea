/**
 * Activity: writes one report (JSON + Markdown) under `<reports.dir>/<migration>/`, and a copy into the target's report store. Rendering happens here, on
 * the worker, so that workflows only pass data. The kind picks the Markdown renderer.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { MigrationSpec } from '../config/spec';
import type { BatchStatus, MigrationStatus, MigrationPlan, OffsetTranslationReport, PreflightReport, VerificationReport } from '../types';
import { renderBatchMarkdown } from '../reports/batchReport';
import { renderMigrationMarkdown } from '../reports/migrationReport';
import { renderOffsetTranslationMarkdown } from '../reports/offsetTranslationReport';
import { renderPlanMarkdown } from '../reports/planReport';
import { renderPreflightMarkdown } from '../reports/preflightReport';
import { renderVerificationMarkdown } from '../reports/verificationReport';
import { isSafeFileStem, writeAndStoreReport, type WrittenReport } from '../reports/writeReport';

export type ReportKind = 'preflight' | 'plan' | 'batch' | 'offsets' | 'verification' | 'migration';

const RENDERERS: Record<ReportKind, (data: never) => string> = {
  preflight: (d: PreflightReport) => renderPreflightMarkdown(d),
  plan: (d: MigrationPlan) => renderPlanMarkdown(d),
  batch: (d: BatchStatus) => renderBatchMarkdown(d),
  offsets: (d: OffsetTranslationReport) => renderOffsetTranslationMarkdown(d),
  verification: (d: VerificationReport) => renderVerificationMarkdown(d),
  migration: (d: { outcome: string; status: MigrationStatus }) => renderMigrationMarkdown(d),
};

export async function writeReportFiles(input: { spec: MigrationSpec; fileStem: string; kind: ReportKind; data: unknown }): Promise<WrittenReport> {
  // A bad name never heals by retrying: say so at once (the batch blocks on it) instead of retrying for minutes.
  if (!isSafeFileStem(input.fileStem)) {
    throw ApplicationFailure.nonRetryable(
      `writeReportFiles: report file stem "${input.fileStem}" must be letters, digits, dots, dashes or underscores`,
      'InvalidReportName',
    );
  }
  const markdown = RENDERERS[input.kind](input.data as never);
  return writeAndStoreReport({ spec: input.spec, fileStem: input.fileStem, json: input.data, markdown });
}
