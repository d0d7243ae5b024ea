/**
 * The preflight report: Markdown for the operator who approves (or overrides) it, JSON beside it.
 * `renderPreflightMarkdown` is pure; `writePreflightReport` is an activity writing
 * `<spec.reports.dir>/<spec.name>/preflight.{json,md}`.
 */
import type { MigrationSpec } from '../config/spec';
import type { CheckResult, PreflightReport, Verdict } from '../types/preflight';
import { mdTable } from './markdown';
import { writeAndStoreReport } from './writeReport';

const MARK: Record<Verdict, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

function evidenceBlock(evidence: Record<string, unknown>): string {
  const json = JSON.stringify(evidence, null, 2);
  // Keep the Markdown readable; the JSON report holds everything.
  const clipped = json.length > 6000 ? `${json.slice(0, 6000)}\n… (truncated: see preflight.json)` : json;
  return ['<details><summary>evidence</summary>', '', '```json', clipped, '```', '', '</details>'].join('\n');
}

function renderCheck(c: CheckResult): string {
  const lines = [`## ${MARK[c.verdict]} — ${c.title} (\`${c.id}\`)`, '', c.summary, ''];
  if (c.remediation) lines.push(`**What to do:** ${c.remediation}`, '');
  lines.push(evidenceBlock(c.evidence), '');
  return lines.join('\n');
}

export function renderPreflightMarkdown(report: PreflightReport): string {
  const fails = report.checks.filter((c) => c.verdict === 'fail').length;
  const warns = report.checks.filter((c) => c.verdict === 'warn').length;
  const lines = [
    `# Preflight of migration ${report.migration}: ${MARK[report.verdict]}`,
    '',
    `Checked at ${report.checkedAt}: ${report.checks.length} checks, ${fails} failed, ${warns} with warnings.`,
    report.verdict === 'fail'
      ? 'A failed check blocks the migration: fix it and run again, or send `overridePreflight` with a reason.'
      : report.verdict === 'warn'
        ? 'Read every warning before approving the plan.'
        : 'Nothing blocks the migration.',
    '',
    mdTable(
      ['check', 'verdict', 'summary'],
      report.checks.map((c) => [c.title, MARK[c.verdict], c.summary]),
    ),
    '',
    ...report.checks.map(renderCheck),
  ];
  return lines.join('\n');
}

/** Activity: writes the report as preflight.json and preflight.md under the migration's report folder. */
export async function writePreflightReport(input: { spec: MigrationSpec; report: PreflightReport }): Promise<{ jsonPath: string; markdownPath: string }> {
  return writeAndStoreReport({ spec: input.spec, fileStem: 'preflight', json: input.report, markdown: renderPreflightMarkdown(input.report) });
}
