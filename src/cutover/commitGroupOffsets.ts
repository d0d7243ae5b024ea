/**
 * Commits a group's offsets the way an admin does (kafka-consumer-groups --reset-offsets, AdminClient
 * alterConsumerGroupOffsets): an OffsetCommit to the group coordinator with generation -1 and no member id.
 * The broker accepts that only while the group has no members, so a consumer that joined meanwhile makes the
 * commit fail (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS) instead of being overwritten.
 * (kafkajs' admin.setOffsets instead joins the group as a member and waits a fetch cycle, about 5 s per group
 * and topic.)
 *
 * `GroupOffsetCommitter` opens kafkajs' internal cluster once and commits any number of groups through it,
 * concurrently: connections to the coordinators are kept for the whole run instead of a connect, a metadata
 * request and a disconnect per group. It opens CONNECTIONS clusters (each its own connection per broker) and gives
 * each group one of them: a broker handles one request per connection at a time, so 200 groups' commits over one
 * connection run one after the other (measured on the local stack: 200 commits 634 ms over 1, 177 ms over 8). It
 * also reads committed offsets (`fetch`: one OffsetFetch per group, the partitions taken from the metadata loaded
 * once) and keeps each group's coordinator between its calls.
 * (kafkajs' admin.fetchOffsets looks every topic up again for every group, under a lock and copying its set
 * of topics each time, and asks FindCoordinator every call: ~6 s of mostly CPU for 200 groups x 200 topics.)
 */
import type { Kafka } from 'kafkajs';
import { apiKeys, createInternalCluster, type GroupCoordinatorBroker, type InternalCluster } from '../copy/kafkaInternals';
import { retry } from '../retry/backoff';

const ATTEMPTS = 5;
/** Connections per broker (see above); the groups are spread over them by a hash of their name. */
export const CONNECTIONS = 8;
/** Between commits while the coordinator moves or loads: 200 ms doubling to 2 s. */
const COORDINATOR_BACKOFF = { initialMs: 200, maxMs: 2000 };

export interface GroupOffset {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * Coordinator moves and loads are retried (kafkajs' names for NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
 * COORDINATOR_LOAD_IN_PROGRESS); a member in the group or a permission problem is not.
 */
const COORDINATOR_MOVED = new Set(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'GROUP_LOAD_IN_PROGRESS']);

type OffsetFetchTopics = { topic: string; partitions: { partition: number }[] }[];
type OffsetFetchResponse = { topic: string; partitions: { partition: number; offset: string }[] }[];
/** What every group's OffsetFetch asks, and the partitions it covers ("topic:partition"). */
type FetchPlan = { request: OffsetFetchTopics; partitions: ReadonlySet<string> };

/**
 * OffsetFetch v2+ (Kafka 0.10.2+) reads null topics as "every committed offset of the group", v1 as none; but kafkajs
 * writes an empty list as null only from v3 (v2 reuses v1's encoder: an empty array, which 0.10.2 answers with nothing).
 */
function supportsAllTopics(coordinator: GroupCoordinatorBroker): boolean {
  return (coordinator.versions?.[apiKeys.OffsetFetch]?.maxVersion ?? 0) >= 3;
}

/**
 * A group's committed offsets on the topics: only the partitions where it has one ("topic:partition" -> offset;
 * most partitions of a large batch are not the group's), and every partition of the topics (one set shared by
 * every group of the same topics).
 */
export interface FetchedOffsets {
  offsets: Map<string, number>;
  partitions: ReadonlySet<string>;
}

export class GroupOffsetCommitter {
  /** Group -> its coordinator (dropped when it moved). */
  private readonly coordinators = new Map<string, Promise<GroupCoordinatorBroker>>();
  /** A topic list (joined by NUL) -> its OffsetFetch topics, built once from the metadata, after the access check. */
  private readonly fetchPlans = new Map<string, Promise<FetchPlan & { explicit: OffsetFetchResponse }>>();

  private constructor(private readonly clusters: InternalCluster[]) {}

  /**
   * Connects and loads the metadata of the topics to be committed; close() when done. (Without broker metadata
   * kafkajs' first FindCoordinator fails, refreshes and retries after its retry back-off: ~300 ms.) `connections`:
   * clusters to spread the groups over (one for a single group).
   */
  static async open(kafka: Kafka, topics: readonly string[], connections = CONNECTIONS): Promise<GroupOffsetCommitter> {
    const clusters = Array.from({ length: Math.max(1, connections) }, () => createInternalCluster(kafka));
    const opened = await Promise.allSettled(
      clusters.map(async (cluster) => {
        await cluster.connect();
        await cluster.addMultipleTargetTopics([...new Set(topics)]);
      }),
    );
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await Promise.all(clusters.map((c) => c.disconnect().catch(() => undefined)));
      throw failed.reason;
    }
    return new GroupOffsetCommitter(clusters);
  }

  /** The group's cluster: always the same one for a group (its coordinator and retries stay on one connection). */
  private clusterOf(group: string): InternalCluster {
    let h = 0;
    for (let i = 0; i < group.length; i++) h = (h * 31 + group.charCodeAt(i)) >>> 0;
    return this.clusters[h % this.clusters.length];
  }

  private coordinator(group: string): Promise<GroupCoordinatorBroker> {
    let c = this.coordinators.get(group);
    if (!c) {
      c = this.clusterOf(group).findGroupCoordinator({ groupId: group });
      c.catch(() => this.coordinators.delete(group));
      this.coordinators.set(group, c);
    }
    return c;
  }

  /** Runs fn against the group's coordinator, again after a coordinator move or load (metadata refreshed). */
  private withCoordinator<T>(group: string, fn: (coordinator: GroupCoordinatorBroker) => Promise<T>): Promise<T> {
    return retry(async () => fn(await this.coordinator(group)), {
      ...COORDINATOR_BACKOFF,
      maxAttempts: ATTEMPTS,
      retryIf: (e) => COORDINATOR_MOVED.has((e as { type?: string }).type ?? ''),
      onRetry: async () => {
        this.coordinators.delete(group);
        await this.clusterOf(group).refreshMetadata();
      },
    });
  }

  /**
   * The group's committed offsets on the partitions of the topics (see FetchedOffsets). A partition's error
   * fails the call.
   *
   * The first group asks for every partition by name: the broker answers TOPIC_AUTHORIZATION_FAILED for a topic
   * this user may not describe, so that call proves access to all of them. Every later group asks for all its
   * committed offsets (OffsetFetch v2+ with null topics: the broker answers only the partitions the group has
   * committed, filtering out undescribable topics, which the first call ruled out) and the rest are null: the
   * same answer, without 2,000 partitions to encode and decode per group.
   */
  async fetch(group: string, topics: readonly string[]): Promise<FetchedOffsets> {
    if (topics.length === 0) return { offsets: new Map(), partitions: new Set() };
    const plan = await this.fetchPlan(group, topics);
    const { responses } = plan.explicit
      ? { responses: plan.explicit }
      : await this.withCoordinator(group, async (c) =>
          supportsAllTopics(c) ? c.offsetFetch({ groupId: group, topics: [] }) : c.offsetFetch({ groupId: group, topics: plan.request }),
        );
    const offsets = new Map<string, number>();
    for (const t of responses) {
      for (const p of t.partitions) {
        const key = `${t.topic}:${p.partition}`;
        const n = Number(p.offset);
        // "" or -1: no committed offset there. A null-topics answer may name topics outside the plan: not ours.
        if (p.offset === null || p.offset === undefined || p.offset === '' || !(n >= 0) || !plan.partitions.has(key)) continue;
        offsets.set(key, n);
      }
    }
    return { offsets, partitions: plan.partitions };
  }

  /** The partitions of the topics, and (for the first group only) its answer to the explicit, access-proving fetch. */
  private async fetchPlan(group: string, topics: readonly string[]): Promise<FetchPlan & { explicit?: OffsetFetchResponse }> {
    const id = topics.join('\u0000');
    const known = this.fetchPlans.get(id);
    if (known) {
      try {
        const { request, partitions } = await known;
        return { request, partitions };
      } catch {
        // The first group's fetch failed (it reported that): this one proves access itself.
      }
    }
    const planned = (async () => {
      const cluster = this.clusterOf(group);
      await cluster.addMultipleTargetTopics([...new Set(topics)]);
      const request = topics.map((topic) => ({
        topic,
        partitions: cluster
          .findTopicPartitionMetadata(topic)
          .map((p) => p.partitionId)
          .sort((a, b) => a - b)
          .map((partition) => ({ partition })),
      }));
      const partitions = new Set(request.flatMap((t) => t.partitions.map((p) => `${t.topic}:${p.partition}`)));
      const { responses } = await this.withCoordinator(group, (c) => c.offsetFetch({ groupId: group, topics: request }));
      return { request, partitions, explicit: responses };
    })();
    planned.catch(() => undefined);
    this.fetchPlans.set(id, planned);
    return planned;
  }

  /** Commits the offsets of one group; safe to call for many groups at once. A no-op without offsets. */
  async commit(group: string, offsets: readonly GroupOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic);
      if (list) list.push({ partition: o.partition, offset: String(o.offset) });
      else byTopic.set(o.topic, [{ partition: o.partition, offset: String(o.offset) }]);
    }
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    await this.withCoordinator(group, (c) => c.offsetCommit({ groupId: group, groupGenerationId: -1, memberId: '', topics }));
  }

  async close(): Promise<void> {
    await Promise.all(this.clusters.map((c) => c.disconnect().catch(() => undefined)));
  }
}

/** One group's commit on its own connection (set-up code, single groups); many groups: GroupOffsetCommitter. */
export async function commitGroupOffsets(kafka: Kafka, group: string, offsets: GroupOffset[]): Promise<void> {
  if (offsets.length === 0) return;
  const committer = await GroupOffsetCommitter.open(
    kafka,
    offsets.map((o) => o.topic),
    1,
  );
  try {
    await committer.commit(group, offsets);
  } finally {
    await committer.close();
  }
}
