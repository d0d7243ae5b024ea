/**
 * The Temporal UI's current details of a rollback window (src/workflows/rollbackWindow.ts): its state and expiry, the
 * reverse sync's progress, the source fence, a block's cause, and the CLI commands that end it. Pure text; workflow-safe.
 */
import type { WindowStatus } from '../types/rollback';
import { blockedLine, count } from './currentDetails';

export function windowDetails(s: WindowStatus): string {
  const lines = [
    `**Rollback window of batch ${s.batch} (${s.name})** of migration ${s.migration}: \`${s.state}\`, opened ${s.openedAt}, ${
      s.closesAt ? `expires ${s.closesAt} (then finalized by policy)` : 'open until finalize'
    }`,
    '',
    `- Reverse sync (target -> source): ${count(s.recordsCopiedBack)} records copied back, reverse lag ${count(s.reverseLagRecords)} records, ${s.rounds} rounds`,
  ];
  const f = s.fence;
  if (f) {
    lines.push(
      `- Source write fence: ${f.state}${f.deniedPrincipals.length ? `, WRITE denied to ${f.deniedPrincipals.slice(0, 5).join(', ')}` : ''}${
        f.unfenceable?.length ? `; ${f.unfenceable.length} topic(s) NOT fenceable` : ''
      }${f.reason && f.state !== 'in-place' ? ` (${f.reason.slice(0, 200)})` : ''}`,
    );
  }
  if (s.blocked) lines.push(`${blockedLine(s.blocked)}; actions: ${s.blocked.actions.join(', ')}`);
  if (s.rollback?.writePauseMs !== undefined) {
    lines.push(
      `- Rollback write pause ${(s.rollback.writePauseMs / 1000).toFixed(1)} s${s.rollback.verification ? `, verification ${s.rollback.verification.ok ? 'passed' : 'FAILED'}` : ''}`,
    );
  }
  if (s.state === 'open') {
    lines.push(
      '',
      `To roll back (stop the batch's producers, then its consumers, on the target first): \`kafka-migrate rollback ${s.migration} --batch ${s.batch} --by "<your name>" --reason "<why>"\``,
      `To end the window (clients stay on the target): \`kafka-migrate finalize ${s.migration} --batch ${s.batch} --by "<your name>"\``,
    );
  }
  for (const d of s.decisions.slice(-5))
    lines.push(`- ${d.at} ${d.kind} by ${d.by}: ${d.accepted ? 'accepted' : 'refused'}${d.reason ? ` (${d.reason.slice(0, 200)})` : ''}`);
  return lines.join('\n');
}
