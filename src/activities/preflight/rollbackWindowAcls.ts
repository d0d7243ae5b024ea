/**
 * What a rollback window (cutover.rollbackWindow) needs on the source, added to the ACL check: the migrator writes
 * the records clients wrote on the target back to the batch topics, and keeps its reverse offset map in
 * `__kafka_migrate_offsets` on the source, and fences the batch's source topics for everyone else while the window is
 * open (src/cutover/windowFence.ts: a DENY WRITE per principal that may write, so it needs Describe and Alter on the
 * cluster). A write that still gets through (a super user, a topic User:* may write) is detected: the reverse copy
 * refuses to go on. On a source without an authorizer nothing can be enforced: the check fails so that the operator
 * confirms, with a reason (override), that no producer writes to the source while a window is open.
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
    `Describe and Alter on the cluster, for the window's write fence (${grantCommand(spec.source, principal, 'Alter', 'cluster')})`,
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
    summary: `${check.summary}; cutover.rollbackWindow is ${window}: the migrator needs on the source: ${grants.join('; ')}. While a window is open its source topics are fenced for every principal that may write them but the migrator (super users cannot be fenced; a write that gets through is detected: the reverse sync stops and blocks)`,
    evidence,
    remediation: [
      check.remediation,
      `Grant the migrator on the source: ${grants.join('; ')}. Give producers Write per principal (a Write for User:* cannot be fenced without fencing the migrator).`,
    ]
      .filter(Boolean)
      .join(' '),
  };
}
