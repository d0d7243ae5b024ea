/** The compact inventory a workflow receives: per-topic and per-group totals, no per-partition detail. Pure. */
import type { Inventory, InventorySummary } from '../types/inventory';

export function summarizeInventory(inv: Inventory, reportFiles: InventorySummary['reportFiles']): InventorySummary {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const external = inv.topics.filter((t) => !t.internal);
  return {
    migration: inv.migration,
    collectedAt: inv.collectedAt,
    durationMs: inv.durationMs,
    ...(inv.phases ? { phases: inv.phases } : {}),
    clusterId: inv.cluster.clusterId,
    totals: {
      topics: external.length,
      partitions: sum(external.map((t) => t.partitions)),
      records: sum(external.map((t) => t.records)),
      bytes: sum(external.map((t) => t.bytes)),
      groups: inv.groups.length,
      inactiveTopics: inv.topics.filter((t) => t.flags.includes('inactive')).length,
      unclaimedGroups: inv.groups.filter((g) => g.flags.includes('unclaimed')).length,
    },
    topics: inv.topics.map((t) => ({
      name: t.name,
      internal: t.internal,
      partitions: t.partitions,
      replicationFactor: t.replicationFactor,
      records: t.records,
      bytes: t.bytes,
      lastRecordAt: t.lastRecordAt,
      system: t.system,
      flags: t.flags,
      flagReasons: t.flagReasons,
    })),
    groups: inv.groups.map((g) => ({
      groupId: g.groupId,
      state: g.state,
      protocolType: g.protocolType,
      members: g.members.length,
      topics: g.topics,
      missingTopics: g.missingTopics,
      totalLag: g.totalLag,
      systems: g.systems,
      flags: g.flags,
      flagReasons: g.flagReasons,
    })),
    systems: inv.systems,
    unassigned: inv.unassigned,
    warnings: inv.warnings,
    reportFiles,
  };
}
