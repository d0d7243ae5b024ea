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
 * request and a disconnect per group.
 */
import type { Cluster, Kafka } from 'kafkajs';
import { createInternalCluster } from '../copy/kafkaInternals';
import { retry } from '../retry/backoff';

const ATTEMPTS = 5;
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

export class GroupOffsetCommitter {
  private constructor(private readonly cluster: Cluster) {}

  /**
   * Connects once and loads the metadata of the topics to be committed; close() when done. (Without broker
   * metadata kafkajs' first FindCoordinator fails, refreshes and retries after its retry back-off: ~300 ms.)
   */
  static async open(kafka: Kafka, topics: readonly string[]): Promise<GroupOffsetCommitter> {
    const cluster = createInternalCluster(kafka);
    try {
      await cluster.connect();
      await cluster.addMultipleTargetTopics([...new Set(topics)]);
    } catch (e) {
      await cluster.disconnect().catch(() => undefined);
      throw e;
    }
    return new GroupOffsetCommitter(cluster as unknown as Cluster);
  }

  /** Commits the offsets of one group; safe to call for many groups at once. A no-op without offsets. */
  async commit(group: string, offsets: readonly GroupOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: String(o.offset) }]);
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    await retry(
      async () => {
        const coordinator = await this.cluster.findGroupCoordinator({ groupId: group });
        await coordinator.offsetCommit({ groupId: group, groupGenerationId: -1, memberId: '', topics });
      },
      {
        ...COORDINATOR_BACKOFF,
        maxAttempts: ATTEMPTS,
        retryIf: (e) => COORDINATOR_MOVED.has((e as { type?: string }).type ?? ''),
        onRetry: () => this.cluster.refreshMetadata(),
      },
    );
  }

  async close(): Promise<void> {
    await this.cluster.disconnect().catch(() => undefined);
  }
}

/** One group's commit on its own connection (set-up code, single groups); many groups: GroupOffsetCommitter. */
export async function commitGroupOffsets(kafka: Kafka, group: string, offsets: GroupOffset[]): Promise<void> {
  if (offsets.length === 0) return;
  const committer = await GroupOffsetCommitter.open(
    kafka,
    offsets.map((o) => o.topic),
  );
  try {
    await committer.commit(group, offsets);
  } finally {
    await committer.close();
  }
}
