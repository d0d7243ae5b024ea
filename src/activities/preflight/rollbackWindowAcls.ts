/**
 * What a rollback window (cutover.rollbackWindow) needs on the source, added to the ACL check: the migrator writes
 * the records clients wrote on the target back to the batch topics, and keeps its reverse offset map in
 * `__kafka_migrate_offsets` on the source. The window does not fence the source (a DENY for everyone would deny
 * the migrator too): a write by anyone else is detected (the reverse copy refuses to go on), not prevented. On a
 * source without an authorizer nothing can be enforced: the check fails so that the operator confirms, with a
 * reason (override), that no producer writes to the source while a window is open.
 */
import { rollbackWindowMs } from '../../config/rollbackWindow';
import type { MigrationSpec } from '../../config/spec';
import { OFFSET_STORE_TOPIC } from '../../copy/offsetMapStore';
import type { CheckResult } from '../../types/preflight';
import { grantCommand, principalOf } from './common';

export function withRollbackWindowAdvice(spec: MigrationSpec, check: CheckResult): CheckResult {
  const window = spec.cutover.rollbackWindow;
  if (!rollbackWindowMs(window)) return check;
  const principal = principalOf(spec.source);
  const grants = [
    `Write on every topic of the batches (e.g. ${grantCommand(spec.source, principal, 'Write', 'topic', '<topic>')})`,
    `All on ${OFFSET_STORE_TOPIC} (${grantCommand(spec.source, principal, 'All', 'topic', OFFSET_STORE_TOPIC)})`,
  ];
  const evidence = { ...check.evidence, rollbackWindow: { window, migratorNeedsOnSource: grants } };
  if (check.evidence.authorizer === false) {
    return {
      ...check,
      verdict: 'fail',
      summary: `${check.summary}; cutover.rollbackWindow is ${window}: the source has no authorizer, so nothing stops a producer from writing to the source topics while a window is open (a rollback then refuses to go on)`,
      evidence,
      remediation:
        'Confirm that no producer writes to the source topics of a batch once its clients moved (override this check with that reason), or enable an authorizer on the source.',
    };
  }
  return {
    ...check,
    verdict: check.verdict === 'pass' ? 'warn' : check.verdict,
    summary: `${check.summary}; cutover.rollbackWindow is ${window}: the migrator needs on the source: ${grants.join('; ')}. The source is not fenced during a window: a write there is detected (the reverse sync stops and blocks), not prevented`,
    evidence,
    remediation: [
      check.remediation,
      `Grant the migrator on the source: ${grants.join('; ')}; keep other producers off the source topics (remove their Write grants) while a window is open.`,
    ]
      .filter(Boolean)
      .join(' '),
  };
}
