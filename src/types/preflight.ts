/** Preflight (phase 1): one verdict per check, with evidence an operator can read before approving. */

export type Verdict = 'pass' | 'warn' | 'fail';

export type PreflightCheckId = 'versions' | 'security' | 'permissions' | 'acls' | 'ecosystem' | 'reachability' | 'capacity' | 'target-state' | 'clients';

export interface CheckResult {
  id: string;
  title: string;
  verdict: Verdict;
  /** One or two sentences: what was found. */
  summary: string;
  /** What the verdict rests on (JSON-able). Never a password. */
  evidence: Record<string, unknown>;
  /** What to do about a warn or fail (or a reminder on a pass). */
  remediation?: string;
}

export interface PreflightReport {
  migration: string;
  checkedAt: string;
  /** The worst verdict of all checks. */
  verdict: Verdict;
  checks: CheckResult[];
}

/** A permission the migration user lacks, with the binding that grants it. */
export interface MissingPermission {
  resource: string;
  operation: string;
  error: string;
  /** The kafka-acls command to run (as an admin) that fixes it. */
  fix: string;
}

/** The checks a migration's preflight phase runs (activity names), in their order: the workflow and the read-only CLI. */
export const PREFLIGHT_CHECKS = [
  'checkVersions',
  'checkSecurity',
  'checkPermissions',
  'checkAcls',
  'checkEcosystem',
  'checkReachability',
  'checkCapacity',
  'checkTargetState',
  'checkClients',
] as const;
