/**
 * Activities of the rollback window (src/workflows/rollbackWindow.ts): the reverse sync round, the target's
 * quiet check and end offsets, the group offsets moved back to the source, the rollback's verification and
 * its reports. All Kafka I/O of the window is here; the logic lives in src/rollback/.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { MigrationSpec } from '../config/spec';
import { copyPartitionsUntil } from '../copy/copyPartitions';
import { NonRetryableCopyError } from '../copy/copyErrors';
import { createInternalCluster } from '../copy/kafkaInternals';
import { loadOffsetStore } from '../copy/loadOffsetMap';
import { sharedThrottle } from '../copy/throttle';
import { fetchEndOffsetsOnCluster } from '../cutover/endOffsets';
import { watchUntilQuiet } from '../cutover/quietCheck';
import { fenceForWindow, liftWindowFence } from '../cutover/windowFence';
import { unfenceTopics } from '../cutover/writeFence';
import { createKafka, withAdmin } from '../kafka/clients';
import { failureOnTaggedCluster, onCluster } from '../kafka/clusterRole';
import { renderRollbackOffsetsMarkdown, renderRollbackVerificationMarkdown, renderWindowMarkdown } from '../reports/rollbackReport';
import { writeAndStoreReport, type WrittenReport } from '../reports/writeReport';
import { loadReverseStore, reverseMigrationKey, seedReverseCheckpoints } from '../rollback/reverseSync';
import { translateGroupOffsetsBack } from '../rollback/translateBack';
import { verifyRollback } from '../rollback/verifyRollback';
import type { CopyRoundInput, PartitionOffsets, PartitionProgress, QuietCheckResult, TopicPartitionRef, WindowFenceReport } from '../types';
import type { RollbackOffsetsSummary, WindowStatus } from '../types/rollback';

type Clusters = Pick<MigrationSpec, 'source' | 'target'>;
type Connections = { source: MigrationSpec['source']; target: MigrationSpec['source'] };

/** The reverse copy reads the target and writes the source: its errors' roles are the engine's, swapped back here. */
const swapped = (spec: Connections): Clusters => ({ source: spec.target, target: spec.source }) as unknown as Clusters;

function toFailure(e: unknown, spec: Connections, action: string): Error {
  if (e instanceof NonRetryableCopyError) {
    return ApplicationFailure.create({
      nonRetryable: true,
      type: e.type,
      message: `${action} (reverse sync, target -> source): ${e.message}`,
      details: e.topics ? [{ topics: e.topics }] : undefined,
    });
  }
  if (e instanceof CancelledFailure || e instanceof ApplicationFailure) return e;
  return failureOnTaggedCluster(e, swapped(spec), action);
}

/**
 * One reverse round over a group of partitions: records written on the target since the forward copy's end go
 * to the source. `source`/`target` are the migration's; `stopAt` holds target offsets (drain). Seeds the
 * partitions' reverse checkpoints first (once).
 */
export async function reverseCopyRound(input: Omit<CopyRoundInput, 'readyMaxLagRecords'>): Promise<PartitionProgress[]> {
  const ctx = Context.current();
  let last: PartitionProgress[] = ctx.info.heartbeatDetails ?? [];
  const heartbeat = () => ctx.heartbeat(last);
  const ticker = setInterval(heartbeat, 1000);
  try {
    heartbeat();
    try {
      await seedReverseCheckpoints(input.source, input.target, input.migration, input.partitions);
    } catch (e) {
      throw e instanceof ApplicationFailure ? e : failureOnTaggedCluster(e, input, 'reverseCopyRound');
    }
    const progress = await copyPartitionsUntil({
      source: input.target,
      target: input.source,
      migration: reverseMigrationKey(input.migration),
      partitions: input.partitions,
      followForMs: input.mode === 'follow' ? input.copy.roundSeconds * 1000 : undefined,
      stopAt: input.mode === 'drain' ? (input.stopAt ?? {}) : undefined,
      maxBatchBytes: input.copy.maxBatchBytes,
      throttle: sharedThrottle(reverseMigrationKey(input.migration), input.copy.throttleBytesPerSecond),
      signal: ctx.cancellationSignal,
      progressIntervalMs: 1000,
      onProgress: (p) => {
        last = p;
      },
    });
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new CancelledFailure('reverseCopyRound cancelled');
    return progress;
  } catch (e) {
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new CancelledFailure('reverseCopyRound cancelled');
    throw toFailure(e, input, 'reverseCopyRound');
  } finally {
    clearInterval(ticker);
  }
}

/** Every partition of the topics on the target, with its read_committed end offset ("topic:partition" -> end). */
export async function sampleTargetEndOffsets(input: { spec: Clusters; topics: string[] }): Promise<PartitionOffsets> {
  const cluster = createInternalCluster(createKafka(input.spec.target, 'target', { clientIdSuffix: 'window' }));
  try {
    await onCluster('target', () => cluster.connect());
    return await onCluster('target', () => fetchEndOffsetsOnCluster(cluster, input.topics));
  } catch (e) {
    throw failureOnTaggedCluster(e, input.spec, 'sampleTargetEndOffsets');
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** The rollback's first check: the target's batch topics stand still for quietSeconds (producers stopped there). */
export async function waitForQuietTarget(input: { spec: Clusters; topics: string[]; quietSeconds: number }): Promise<QuietCheckResult> {
  const cluster = createInternalCluster(createKafka(input.spec.target, 'target', { clientIdSuffix: 'window-quiet' }));
  try {
    await onCluster('target', () => cluster.connect());
    return await onCluster('target', () => watchUntilQuiet(() => fetchEndOffsetsOnCluster(cluster, input.topics), { quietSeconds: input.quietSeconds }));
  } catch (e) {
    throw failureOnTaggedCluster(e, input.spec, 'waitForQuietTarget');
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** The worker's files, and a copy in the target's report store (src/reports/reportStore.ts). */
function reportFiles(spec: MigrationSpec, fileStem: string, json: unknown, markdown: string): Promise<WrittenReport> {
  return writeAndStoreReport({ spec, fileStem, json, markdown });
}

/** Translates every group's target offsets back to the source and commits them there; writes the report. */
export async function translateOffsetsBackAndReport(input: {
  spec: MigrationSpec;
  migration: string;
  groups: string[];
  topics: string[];
  fileStem: string;
}): Promise<RollbackOffsetsSummary> {
  const { spec } = input;
  try {
    const [forward, reverse] = await Promise.all([
      onCluster('target', () => loadOffsetStore(spec.target, input.migration)),
      onCluster('source', () => loadReverseStore(spec.source, input.migration)),
    ]);
    const report = await withAdmin(spec.source, 'source', (source) =>
      withAdmin(spec.target, 'target', (target) =>
        translateGroupOffsetsBack({
          migration: input.migration,
          groups: input.groups,
          topics: input.topics,
          source,
          target,
          sourceKafka: createKafka(spec.source, 'source', { clientIdSuffix: 'rollback-offsets' }),
          targetKafka: createKafka(spec.target, 'target', { clientIdSuffix: 'rollback-offsets' }),
          forward,
          reverse,
        }),
      ),
    );
    const files = await reportFiles(spec, input.fileStem, report, renderRollbackOffsetsMarkdown(report));
    return { groups: report.groups.length, partitionsCommitted: report.groups.reduce((n, g) => n + g.partitions.length, 0), report: files };
  } catch (e) {
    throw e instanceof ApplicationFailure ? e : failureOnTaggedCluster(e, spec, 'translateOffsetsBack');
  }
}

/** Verifies the rollback (source = source before the cutover + everything written on the target); writes the report. */
export async function verifyRollbackAndReport(input: {
  spec: MigrationSpec;
  migration: string;
  partitions: TopicPartitionRef[];
  fileStem: string;
}): Promise<{ ok: boolean; mismatchCount: number; firstMismatches: string[]; report: WrittenReport }> {
  const { spec } = input;
  try {
    const [forward, reverse] = await Promise.all([
      onCluster('target', () => loadOffsetStore(spec.target, input.migration)),
      onCluster('source', () => loadReverseStore(spec.source, input.migration)),
    ]);
    const report = await verifyRollback({
      migration: input.migration,
      source: spec.source,
      target: spec.target,
      partitions: input.partitions,
      forward,
      reverse,
    });
    const files = await reportFiles(spec, input.fileStem, report, renderRollbackVerificationMarkdown(report));
    return { ok: report.ok, mismatchCount: report.mismatches.length, firstMismatches: report.mismatches.slice(0, 5), report: files };
  } catch (e) {
    throw e instanceof ApplicationFailure ? e : failureOnTaggedCluster(e, spec, 'verifyRollback');
  }
}

/** The window's own report (state, decisions, figures). */
export async function writeWindowReport(input: { spec: MigrationSpec; fileStem: string; status: WindowStatus }): Promise<WrittenReport> {
  return reportFiles(input.spec, input.fileStem, input.status, renderWindowMarkdown(input.status));
}

/**
 * Fences the batch's source topics for the window (everyone but the migrator; src/cutover/windowFence.ts), then
 * lifts the cutover's DENY WRITE User:* (fenceWithAcl), which would deny the reverse sync's writes: the window
 * fence is in place before the cutover fence goes, so the source is never open in between.
 */
export async function fenceSourceForWindow(input: { spec: MigrationSpec; migration: string; topics: string[] }): Promise<WindowFenceReport> {
  const { spec } = input;
  try {
    return await withAdmin(
      spec.source,
      'source',
      async (source) => {
        const target = createKafka(spec.target, 'target', { clientIdSuffix: 'fence' });
        const fence = await fenceForWindow(spec, input.migration, input.topics, source, target);
        // Also when the window fence could not be (fully) applied: the reverse sync cannot write through a DENY User:*.
        const cutoverFence = await unfenceTopics(spec, input.migration, input.topics, source, target);
        if (!cutoverFence.applied)
          throw ApplicationFailure.retryable(`the cutover fence could not be lifted for the reverse sync: ${cutoverFence.reason}`, 'FenceNotLifted');
        return fence;
      },
      { clientIdSuffix: 'fence' },
    );
  } catch (e) {
    throw failureOnTaggedCluster(e, spec, 'fenceSourceForWindow');
  }
}

/** Lifts the window's fence (rollback: clients may move back to the source). */
export async function liftWindowFenceOnSource(input: { spec: MigrationSpec; migration: string; topics: string[] }): Promise<WindowFenceReport> {
  const { spec } = input;
  try {
    return await withAdmin(
      spec.source,
      'source',
      (source) => liftWindowFence(spec, input.migration, input.topics, source, createKafka(spec.target, 'target', { clientIdSuffix: 'fence' })),
      { clientIdSuffix: 'fence' },
    );
  } catch (e) {
    throw failureOnTaggedCluster(e, spec, 'liftWindowFenceOnSource');
  }
}
