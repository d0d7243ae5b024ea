/**
 * Source topics that appeared since the plan was made: in the spec's scope (the same matcher the plan uses:
 * excludeTopics, cluster-internal `__*` topics and the tool's own `__kafka_migrate_*` topics never match),
 * not in `known` (the plan's topics and the topics it excluded), with the groups that committed on them.
 */
import type { Admin } from 'kafkajs';
import type { MigrationSpec } from '../config/spec';
import { fetchGroupOffsets, listGroupsOfAnyRelease } from './sourceGroupListing';
import { fetchPartitionBounds } from '../cutover/endOffsets';
import { compareNames } from '../plan/compare';
import { scopeMatcher } from '../plan/scope';
import type { NewTopicsReport } from '../types/newTopics';
import { isUnknownTopic, mapLimit, retryRetriable } from './concurrency';

const OFFSET_FETCHES_IN_PARALLEL = 8;

export async function findNewSourceTopics(
  admin: Admin,
  spec: Pick<MigrationSpec, 'scope' | 'source'>,
  known: readonly string[],
  /** Groups that are the tool's own (the inventory's tail readers): never reported. */
  ownGroupPrefix: string,
): Promise<NewTopicsReport> {
  const scope = scopeMatcher(spec);
  // `known` may hold thousands of names: one Set, one metadata request for every topic.
  const knownSet = new Set(known);
  const { topics: all } = await retryRetriable(() => admin.fetchTopicMetadata());
  const fresh = all.filter((t) => !knownSet.has(t.name) && scope.topic(t.name)).sort((a, b) => compareNames(a.name, b.name));
  if (fresh.length === 0) return { topics: [], groups: [], checkedAt: new Date().toISOString() };

  const records = new Map<string, number>();
  await mapLimit(fresh, OFFSET_FETCHES_IN_PARALLEL, async (t) => {
    try {
      const bounds = await fetchPartitionBounds(admin, [t.name]);
      records.set(
        t.name,
        Object.values(bounds).reduce((n, b) => n + (b.end - b.start), 0),
      );
    } catch (e) {
      if (!isUnknownTopic(e)) throw e; // deleted again since the listing: not new any more
    }
  });
  const topics = fresh.filter((t) => records.has(t.name)).map((t) => ({ name: t.name, partitions: t.partitions.length, records: records.get(t.name)! }));
  const freshNames = new Set(topics.map((t) => t.name));

  // Old releases: groups without members (and what they committed) from __consumer_offsets (sourceGroupListing.ts).
  const listing = await retryRetriable(() => listGroupsOfAnyRelease(spec.source, 'source', admin));
  const candidates = listing.groups
    .map((g) => g.groupId)
    .filter((id) => scope.group(id) && !id.startsWith(ownGroupPrefix))
    .sort(compareNames);
  const groups = (
    await mapLimit(candidates, OFFSET_FETCHES_IN_PARALLEL, async (group) => {
      // All of the group's committed offsets in one request; only the new topics count.
      const committed = await retryRetriable(() => fetchGroupOffsets(admin, listing, group));
      const on = committed.filter((t) => freshNames.has(t.topic) && t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic);
      return { group, topics: [...new Set(on)].sort(compareNames) };
    })
  ).filter((g) => g.topics.length > 0);
  return { topics, groups, checkedAt: new Date().toISOString() };
}
