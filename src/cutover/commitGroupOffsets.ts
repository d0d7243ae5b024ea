/**
 * Commits a group's offsets the way an admin does (kafka-consumer-groups --reset-offsets, AdminClient
 * alterConsumerGroupOffsets): an OffsetCommit to the group coordinator with generation -1 and no member id.
 * The broker accepts that only while the group has no members, so a consumer that joined meanwhile makes the
 * commit fail instead of being overwritten. (kafkajs' admin.setOffsets instead joins the group as a member
 * and waits a fetch cycle, about 5 s per group and topic.)
 */
import type { Cluster, Kafka } from 'kafkajs';
import { createInternalCluster } from '../copy/kafkaInternals';

const ATTEMPTS = 5;

export async function commitGroupOffsets(kafka: Kafka, group: string, offsets: { topic: string; partition: number; offset: number }[]): Promise<void> {
  if (offsets.length === 0) return;
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: String(o.offset) }]);
  const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  const cluster = createInternalCluster(kafka) as unknown as Cluster;
  await cluster.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const coordinator = await cluster.findGroupCoordinator({ groupId: group });
        await coordinator.offsetCommit({ groupId: group, groupGenerationId: -1, memberId: '', topics });
        return;
      } catch (e) {
        const err = e as { retriable?: boolean; type?: string };
        // A coordinator move is retriable; a member in the group (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
        // REBALANCE_IN_PROGRESS) or a permission problem is not.
        const coordinatorMoved = err.type === 'NOT_COORDINATOR' || err.type === 'COORDINATOR_NOT_AVAILABLE' || err.type === 'COORDINATOR_LOAD_IN_PROGRESS';
        if (!coordinatorMoved || attempt >= ATTEMPTS) throw e;
        await cluster.refreshMetadata();
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
