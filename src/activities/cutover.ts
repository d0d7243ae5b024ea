/**
 * Cutover activities: end offsets, the quiet check, group states, the optional write fence on the source and
 * the translation of committed group offsets to the target. The source is always read as the spec's user
 * (the migrator); errors name the cluster and what to fix (src/kafka/errors.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { MigrationSpec } from '../config/spec';
import { createKafka, withAdmin } from '../kafka/clients';
import { toKafkaFailure } from '../kafka/errors';
import { explainMissingTopics } from '../copy/sourceTopicMissing';
import { fetchEndOffsetsOnCluster } from '../cutover/endOffsets';
import { createInternalCluster, type InternalCluster } from '../copy/kafkaInternals';
import type { ClusterConnection } from '../config/spec';
import type { ClusterRole } from '../kafka/clients';
import { failureOnTaggedCluster, onCluster } from '../kafka/clusterRole';
import { describeGroupStates } from '../cutover/groupStates';
import { offsetMapLoader } from '../cutover/offsetMaps';
import { watchUntilQuiet } from '../cutover/quietCheck';
import { OFFSETS_NOT_COPIED, translateGroupOffsets } from '../cutover/translateGroupOffsets';
import { fenceTopics, unfenceTopics } from '../cutover/writeFence';
import type {
  FenceReport,
  GroupState,
  OffsetsNotCopiedYet,
  OffsetTranslationReport,
  OffsetTranslationSummary,
  PartitionOffsets,
  QuietCheckResult,
} from '../types/cutover';
import { writeReportFiles } from './reports';

/** What the read-only activities need of the spec: the cluster connections. */
type Clusters = Pick<MigrationSpec, 'source' | 'target'>;

/** kafkajs' cluster (not an admin) on one cluster for fn, disconnected after; errors tagged with the role. */
async function withCluster<T>(conn: ClusterConnection, role: ClusterRole, clientIdSuffix: string, fn: (cluster: InternalCluster) => Promise<T>): Promise<T> {
  const cluster = createInternalCluster(createKafka(conn, role, { clientIdSuffix }));
  try {
    await onCluster(role, () => cluster.connect());
    return await onCluster(role, () => fn(cluster));
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** Activity: the source's read_committed end offset of every partition of the topics ("topic:partition"). */
export async function sampleEndOffsets(input: { spec: Clusters; topics: string[] }): Promise<PartitionOffsets> {
  try {
    return await withCluster(input.spec.source, 'source', 'cutover', (cluster) => fetchEndOffsetsOnCluster(cluster, input.topics));
  } catch (e) {
    throw (
      (await explainMissingTopics(e, { topics: input.topics, source: input.spec.source, action: 'sampleEndOffsets' })) ??
      toKafkaFailure(e, input.spec.source, 'source', 'sampleEndOffsets')
    );
  }
}

/**
 * Activity: are the source topics quiet? End offsets must stand still for quietSeconds (polled every 500 ms);
 * when writes go on it answers quiet=false with the partitions that moved, after at most 2 × quietSeconds.
 */
export async function waitForQuietSource(input: { spec: Clusters; topics: string[]; quietSeconds: number }): Promise<QuietCheckResult> {
  try {
    return await withCluster(input.spec.source, 'source', 'quiet-check', (cluster) =>
      watchUntilQuiet(() => fetchEndOffsetsOnCluster(cluster, input.topics), { quietSeconds: input.quietSeconds }),
    );
  } catch (e) {
    // A topic deleted while the check watches fails its next sample.
    throw (
      (await explainMissingTopics(e, { topics: input.topics, source: input.spec.source, action: 'waitForQuietSource' })) ??
      toKafkaFailure(e, input.spec.source, 'source', 'waitForQuietSource')
    );
  }
}

/** Activity: state, protocol and members (client id, host) of each group on one cluster. */
export async function describeGroups(input: { spec: Clusters; cluster: 'source' | 'target'; groups: string[] }): Promise<GroupState[]> {
  const conn = input.cluster === 'source' ? input.spec.source : input.spec.target;
  try {
    return await withAdmin(conn, input.cluster, (admin) => describeGroupStates(admin, input.cluster, input.groups), { clientIdSuffix: 'cutover' });
  } catch (e) {
    throw toKafkaFailure(e, conn, input.cluster, 'describeGroups');
  }
}

/**
 * Activity: DENY WRITE for everyone on each topic of the source (idempotent). Without ALTER on the cluster the
 * report says applied=false and which grant is missing: the workflow then relies on the quiet check.
 */
export async function fenceSourceWrites(input: { spec: MigrationSpec; migration: string; topics: string[] }): Promise<FenceReport> {
  const { spec } = input;
  try {
    return await withAdmin(
      spec.source,
      'source',
      (source) => fenceTopics(spec, input.migration, input.topics, source, createKafka(spec.target, 'target', { clientIdSuffix: 'fence' })),
      {
        clientIdSuffix: 'fence',
      },
    );
  } catch (e) {
    throw failureOnTaggedCluster(e, spec, 'fenceSourceWrites');
  }
}

/** Activity: removes exactly the fences this migration added on these topics; a no-op when there are none. */
export async function unfenceSourceWrites(input: { spec: MigrationSpec; migration: string; topics: string[] }): Promise<FenceReport> {
  const { spec } = input;
  try {
    return await withAdmin(
      spec.source,
      'source',
      (source) => unfenceTopics(spec, input.migration, input.topics, source, createKafka(spec.target, 'target', { clientIdSuffix: 'fence' })),
      {
        clientIdSuffix: 'fence',
      },
    );
  } catch (e) {
    throw failureOnTaggedCluster(e, spec, 'unfenceSourceWrites');
  }
}

/**
 * Activity: commits on the target, for each group, its committed source offsets translated exactly through
 * the offset map. Refuses (non-retryable GroupActive) while a group is not Empty on the source, and
 * (GroupActiveOnTarget) while a group has members on the target and offsets there that differ from the
 * translation; a group already holding exactly the translated offsets is reported `alreadyCommitted`.
 * Partitions without a committed offset stay without one (auto.offset.reset applies).
 */
export function translateAndCommitOffsets(input: {
  spec: MigrationSpec;
  migration: string;
  groups: string[];
  topics: string[];
}): Promise<OffsetTranslationReport> {
  return translateAndCommit(input);
}

/** translateAndCommitOffsets, with the report handed to whileCommitting as the commit starts (see translateGroupOffsets). */
async function translateAndCommit(
  input: { spec: MigrationSpec; migration: string; groups: string[]; topics: string[] },
  whileCommitting?: (report: OffsetTranslationReport) => Promise<void>,
): Promise<OffsetTranslationReport> {
  const { spec } = input;
  try {
    return await onCluster('source', () =>
      withAdmin(spec.source, 'source', (source) =>
        onCluster('target', () =>
          withAdmin(spec.target, 'target', (target) =>
            translateGroupOffsets({
              migration: input.migration,
              groups: input.groups,
              topics: input.topics,
              source,
              target,
              sourceKafka: createKafka(spec.source, 'source', { clientIdSuffix: 'offsets' }),
              targetKafka: createKafka(spec.target, 'target', { clientIdSuffix: 'offsets' }),
              loadMap: offsetMapLoader(spec.target, input.migration),
              whileCommitting,
            }),
          ),
        ),
      ),
    );
  } catch (e) {
    throw failureOnTaggedCluster(e, spec, 'translateAndCommitOffsets');
  }
}

/**
 * The workflow's step: translateAndCommitOffsets, its report written here (while the offsets are being committed:
 * the write pause does not wait for it), a summary returned (history stays small). A failed commit rewrites the
 * report with a note saying nothing may be relied on as committed, then fails.
 * With whenNotCopied 'deferIfNotCopied' (translation beside the quiet check, before the drain), an offset the copy
 * has not reached yet is answered as notCopied instead of a retryable failure: nothing was committed then.
 */
export async function translateOffsetsAndReport(input: {
  spec: MigrationSpec;
  migration: string;
  groups: string[];
  topics: string[];
  fileStem: string;
  whenNotCopied?: 'deferIfNotCopied';
}): Promise<OffsetTranslationSummary | OffsetsNotCopiedYet> {
  const started = Date.now();
  const write = (data: OffsetTranslationReport) => writeReportFiles({ spec: input.spec, fileStem: input.fileStem, kind: 'offsets', data });
  let draft: OffsetTranslationReport | undefined;
  let files: Awaited<ReturnType<typeof write>> | undefined;
  let reportMs = 0;
  let report: OffsetTranslationReport;
  try {
    report = await translateAndCommit(input, async (r) => {
      draft = r;
      const t0 = Date.now();
      files = await write({ ...r, timingsMs: { ...r.timingsMs } });
      reportMs = Date.now() - t0;
    });
  } catch (e) {
    if (input.whenNotCopied && e instanceof ApplicationFailure && e.type === OFFSETS_NOT_COPIED) return { notCopied: e.message };
    if (draft && files) {
      const why = e instanceof Error ? e.message : String(e);
      await write({
        ...draft,
        notes: [`NOT COMMITTED: the commit of these offsets failed (${why}); the batch retries it or blocks on translating-offsets`, ...draft.notes],
      }).catch(() => undefined);
    }
    throw e;
  }
  if (!files) throw new Error('translateOffsetsAndReport: the offsets report was not written');
  const translatedMs = Date.now() - started;
  return {
    groups: report.groups.length,
    partitionsCommitted: report.groups.reduce((n, g) => n + g.committed, 0),
    groupsAlreadyCommitted: report.groups.filter((g) => g.alreadyCommitted).length,
    partitionsWithoutOffset: report.groups.reduce((n, g) => n + g.withoutOffset.length + g.uncommitted, 0),
    notes: report.notes,
    // The report was written beside the commit (its time overlaps commit's).
    timingsMs: { ...report.timingsMs, translateAndCommit: translatedMs, report: reportMs },
    report: files,
  };
}
