/** Pure (workflow-safe): folds the check results into the preflight report; the worst verdict wins. */
import type { CheckResult, PreflightReport, Verdict } from '../../types/preflight';

const RANK: Record<Verdict, number> = { pass: 0, warn: 1, fail: 2 };

export function summarizePreflight(migration: string, checks: CheckResult[]): PreflightReport {
  const verdict = checks.reduce<Verdict>((worst, c) => (RANK[c.verdict] > RANK[worst] ? c.verdict : worst), 'pass');
  // Workflow time when called from a workflow: deterministic.
  return { migration, checkedAt: new Date().toISOString(), verdict, checks };
}
