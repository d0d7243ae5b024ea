/** Markdown rendering of the inventory (reports/<name>/inventory.md). Pure. */
import type { Inventory } from '../types/inventory';
import { formatBytes, mdTable } from './markdown';

const list = (xs: string[]) => (xs.length ? xs.join(', ') : '—');

export function renderInventoryMarkdown(inv: Inventory): string {
  const external = inv.topics.filter((t) => !t.internal);
  const inactive = inv.topics.filter((t) => t.flags.includes('inactive'));
  const unclaimed = inv.groups.filter((g) => g.flags.includes('unclaimed'));
  const out: string[] = [
    `# Inventory of migration ${inv.migration}`,
    '',
    `Source cluster \`${inv.cluster.clusterId}\` (${inv.cluster.brokers.length} broker(s)), collected ${inv.collectedAt} in ${(inv.durationMs / 1000).toFixed(1)} s.`,
    '',
    `- Topics: ${external.length} (${external.reduce((a, t) => a + t.partitions, 0)} partitions, ${external.reduce((a, t) => a + t.records, 0)} records, ~${formatBytes(external.reduce((a, t) => a + t.bytes, 0))}), plus ${inv.topics.length - external.length} internal`,
    `- Consumer groups: ${inv.groups.length}`,
    `- Inactive topics (no write for ${inv.inactiveDays} days and no group): ${inactive.length}; unclaimed groups: ${unclaimed.length} — left out of the plan unless named in \`scope.includeInactive\``,
    '',
    '## Business systems',
    '',
    mdTable(
      ['system', 'priority', 'topics', 'partitions', 'records', 'bytes (est.)', 'groups'],
      inv.systems.map((s) => [s.name, s.priority, String(s.topics.length), String(s.partitions), String(s.records), formatBytes(s.bytes), list(s.groups)]),
    ),
    '',
    `Unassigned topics: ${list(inv.unassigned.topics)}`,
    '',
    `Unassigned groups: ${list(inv.unassigned.groups)}`,
    '',
  ];
  if (inactive.length || unclaimed.length) {
    out.push('## Flags', '');
    for (const t of inactive) out.push(`- topic \`${t.name}\` inactive: ${t.flagReasons.inactive}`);
    for (const g of unclaimed) out.push(`- group \`${g.groupId}\` unclaimed: ${g.flagReasons.unclaimed}`);
    out.push('');
  }
  out.push(
    '## Topics',
    '',
    mdTable(
      ['topic', 'system', 'partitions', 'RF', 'records', 'bytes (est.)', 'last record', 'groups', 'flags', 'topic configs'],
      inv.topics.map((t) => [
        t.internal ? `${t.name} (internal)` : t.name,
        t.system ?? (t.internal ? '—' : 'unassigned'),
        String(t.partitions),
        String(t.replicationFactor),
        String(t.records),
        formatBytes(t.bytes),
        t.lastRecordAt ?? '—',
        list(t.groups),
        list(t.flags),
        list(t.configs.filter((c) => c.source === 'topic').map((c) => `${c.name}=${c.value ?? '(sensitive)'}`)),
      ]),
    ),
    '',
    '## Consumer groups',
    '',
    mdTable(
      ['group', 'state', 'protocol', 'members', 'systems', 'topics', 'missing topics', 'lag', 'flags'],
      inv.groups.map((g) => [
        g.groupId,
        g.state,
        [g.protocolType, g.protocol].filter(Boolean).join('/') || '—',
        String(g.members.length),
        g.systems.length ? g.systems.join(', ') : 'unassigned',
        list(g.topics),
        list(g.missingTopics),
        String(g.totalLag),
        list(g.flags),
      ]),
    ),
    '',
    '## Clients',
    '',
    mdTable(
      ['group', 'client id', 'host', 'assigned partitions'],
      inv.groups.flatMap((g) =>
        g.members.map((m) => [g.groupId, m.clientId, m.host, list(m.assignment.map((a) => `${a.topic}[${a.partitions.join(',')}]`))]),
      ),
    ),
    '',
  );
  if (inv.warnings.length) out.push('## Warnings', '', ...inv.warnings.map((w) => `- ${w}`), '');
  return out.join('\n');
}
