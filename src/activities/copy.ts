/**
 * Copy activities: thin wrappers around src/copy that heartbeat, honour cancellation and turn engine
 * failures into Temporal failures (configuration and integrity faults are non-retryable).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { MigrationSpec } from '../config/spec';
import { failureOnTaggedCluster } from '../kafka/clusterRole';
import { copyPartitionsUntil } from '../copy/copyPartitions';
import { NonRetryableCopyError } from '../copy/copyErrors';
import { createTopicsOnTarget, syncPartitionCountsOnTarget } from '../copy/targetTopics';
import { explainMissingTopics } from '../copy/sourceTopicMissing';
import { sharedThrottle } from '../copy/throttle';
import { copyCounters } from '../metrics/copyMetrics';
import type { CopyRoundInput, PartitionCountChange, PartitionProgress, TopicCreationReport } from '../types/copy';

function toFailure(e: unknown, spec: Pick<MigrationSpec, 'source' | 'target'>, action: string): Error {
  if (e instanceof NonRetryableCopyError) {
    return ApplicationFailure.create({
      nonRetryable: true,
      type: e.type,
      message: `${action}: ${e.message}`,
      details: e.topics ? [{ topics: e.topics }] : undefined,
    });
  }
  if (e instanceof CancelledFailure || e instanceof ApplicationFailure) return e;
  // The copy engine tags every Kafka error with the cluster it came from (clusterRole): never guessed here.
  return failureOnTaggedCluster(e, spec, action);
}

/**
 * Creates the batch's topics on the target (see TopicCreationReport); safe to retry. Also the workflow's
 * refresh before each round: without changes it only reads (metadata, configs, the offset store), and each
 * topic's `partitions` is its current count, partitions the source gained included.
 */
export async function createTargetTopics(input: { spec: MigrationSpec; topics: string[] }): Promise<TopicCreationReport> {
  try {
    return await createTopicsOnTarget(input.spec, input.spec.name, input.topics);
  } catch (e) {
    // A topic deleted on the source between two of its requests fails one of them: say so.
    throw (
      (await explainMissingTopics(e, { topics: input.topics, source: input.spec.source, action: 'createTargetTopics' })) ??
      toFailure(e, input.spec, 'createTargetTopics')
    );
  }
}

/** Adds on the target the partitions the source gained since the topics were created. */
export async function syncPartitionCounts(input: { spec: MigrationSpec; topics: string[] }): Promise<PartitionCountChange[]> {
  try {
    return await syncPartitionCountsOnTarget(input.spec, input.topics);
  } catch (e) {
    throw (
      (await explainMissingTopics(e, { topics: input.topics, source: input.spec.source, target: input.spec.target, action: 'syncPartitionCounts' })) ??
      toFailure(e, input.spec, 'syncPartitionCounts')
    );
  }
}

/**
 * One copy round over a group of partitions: 'follow' returns after spec.copy.roundSeconds, 'drain' once
 * every partition reached stopAt. Resumes from the durable checkpoint; heartbeats its progress.
 */
/** The input an older workflow code scheduled (the whole spec): still accepted, so a round retried after an upgrade runs. */
type LegacyCopyRoundInput = Omit<CopyRoundInput, 'source' | 'target' | 'copy'> & { spec: MigrationSpec };

function roundInput(input: CopyRoundInput | LegacyCopyRoundInput): CopyRoundInput {
  if (!('spec' in input)) return input;
  const { spec, ...rest } = input;
  return { ...rest, source: spec.source, target: spec.target, copy: spec.copy };
}

export async function copyRound(received: CopyRoundInput | LegacyCopyRoundInput): Promise<PartitionProgress[]> {
  const ctx = Context.current();
  const input = roundInput(received);
  const spec = { source: input.source, target: input.target, copy: input.copy };
  const topics = [...new Set(input.partitions.map((p) => p.topic))];
  let last: PartitionProgress[] = ctx.info.heartbeatDetails ?? [];
  const counters = copyCounters(input.migration, input.mode);
  const heartbeat = () => ctx.heartbeat(last);
  const ticker = setInterval(heartbeat, 1000); // cancellation (an operator action) arrives with a heartbeat reply: do not make it wait
  try {
    heartbeat();
    // Partitions the source gained (the round may name some the target does not have yet) are added first;
    // a topic gone on either side fails here at once. Without a change this is one metadata read per cluster.
    await syncPartitionCountsOnTarget(spec, topics, 'copyRound');
    const progress = await copyPartitionsUntil({
      source: spec.source,
      target: spec.target,
      migration: input.migration,
      partitions: input.partitions,
      followForMs: input.mode === 'follow' ? spec.copy.roundSeconds * 1000 : undefined,
      stopAt: input.mode === 'drain' ? (input.stopAt ?? {}) : undefined,
      maxBatchBytes: spec.copy.maxBatchBytes,
      throttle: sharedThrottle(input.migration, spec.copy.throttleBytesPerSecond),
      storeReplicationFactor: spec.target.replicationFactor,
      signal: ctx.cancellationSignal,
      progressIntervalMs: 1000,
      onProgress: (p) => {
        last = p;
      },
      onCopied: (ref, records, bytes) => counters.copied(ref.topic, records, bytes),
    });
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new CancelledFailure('copyRound cancelled');
    return progress;
  } catch (e) {
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new CancelledFailure('copyRound cancelled');
    // A topic deleted while the round ran surfaces as a fetch/produce error (UNKNOWN_TOPIC_OR_PARTITION).
    const missing = await explainMissingTopics(e, {
      topics,
      source: spec.source,
      target: spec.target,
      action: 'copyRound',
      targetHint: 'recreate it or exclude the topic',
    });
    throw missing ?? toFailure(e, spec, 'copyRound');
  } finally {
    clearInterval(ticker);
  }
}
