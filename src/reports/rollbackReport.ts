/** Markdown of a rollback's reports: the group offsets moved back and the verification. Pure. */
import type { RollbackOffsetsReport, RollbackVerificationReport, WindowStatus } from '../types/rollback';
import { mdTable } from './markdown';

export function renderRollbackOffsetsMarkdown(r: RollbackOffsetsReport): string {
  const rows = r.groups.flatMap((g) =>
    g.partitions.map((p) => [g.group, `${p.topic}:${p.partition}`, String(p.targetOffset), String(p.sourceOffset), p.via]),
  );
  return [
    `# Rollback of ${r.migration}: group offsets moved back to the source`,
    '',
    `${r.groups.length} groups, ${rows.length} partitions committed on the source (${r.at}).`,
    '',
    mdTable(['group', 'partition', 'target offset', 'source offset', 'through'], rows),
    '',
  ].join('\n');
}

export function renderRollbackVerificationMarkdown(r: RollbackVerificationReport): string {
  return [
    `# Rollback of ${r.migration}: verification ${r.ok ? 'passed' : 'FAILED'}`,
    '',
    'Per partition: the source holds what it held at the cutover, then every record written on the target since, in order, and nothing else.',
    `Decoder: ${r.decoder}. ${r.at}.`,
    '',
    mdTable(
      ['partition', 'source before cutover', 'written on target', 'copied back', 'ok', 'problem'],
      r.partitions.map((p) => [`${p.topic}:${p.partition}`, String(p.sourceBeforeCutover), String(p.writtenOnTarget), String(p.copiedBack), p.ok ? 'yes' : 'NO', p.problem ?? '']),
    ),
    '',
  ].join('\n');
}

/** The source fence of the window: what kept writers off, and how to remove what finalize leaves in place. */
function fenceSection(s: WindowStatus): string[] {
  const f = s.fence;
  if (!f) return [];
  const lines = ['## Source write fence', '', `State: ${f.state}; ${f.bindings} ACL bindings on ${f.topicsFenced} topics.`];
  if (f.deniedPrincipals.length) lines.push(`Denied WRITE: ${f.deniedPrincipals.join(', ')} (everyone but the migrator and super users).`);
  if (f.reason) lines.push(`Note: ${f.reason}.`);
  for (const u of f.unfenceable ?? []) lines.push(`- NOT fenced: ${u.topic}: ${u.reason}`);
  if (f.state !== 'lifted' && f.removeCommands.length) {
    lines.push('', `The fence stays in place after ${s.state === 'open' ? 'the window' : s.state}; to remove it by hand:`, '', '```', ...f.removeCommands, '```');
  }
  return [...lines, ''];
}

export function renderWindowMarkdown(s: WindowStatus): string {
  return [
    `# Rollback window of batch ${s.batch} (${s.name}) of ${s.migration}: ${s.state}`,
    '',
    `Opened ${s.openedAt}${s.closesAt ? `, closes ${s.closesAt}` : ', open until finalize'}; ${s.rounds} reverse rounds, ${s.recordsCopiedBack} records copied back, reverse lag ${s.reverseLagRecords} records.`,
    s.rollback?.writePauseMs !== undefined ? `Rollback write pause: ${s.rollback.writePauseMs} ms.` : '',
    '',
    ...fenceSection(s),
    '## Decisions',
    '',
    mdTable(
      ['at', 'action', 'by', 'accepted', 'reason'],
      s.decisions.map((d) => [d.at, d.kind, d.by, d.accepted ? 'yes' : 'no', d.reason ?? '']),
    ),
    '',
  ].join('\n');
}
