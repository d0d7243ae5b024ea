/**
 * Verification activity: after the drain, proves that the target holds exactly what the source held (see
 * src/verify/verifyTopics.ts). Long-running on big topics: it streams and heartbeats.
 */
import type { MigrationSpec } from '../config/spec';
import { effectiveProfile } from '../config/profiles';
import { openClusterClients, type ClusterClients } from '../copy/clusterClients';
import { failureOnTaggedCluster } from '../kafka/clusterRole';
import { explainMissingTopics } from '../copy/sourceTopicMissing';
import { offsetMapLoader } from '../cutover/offsetMaps';
import type { VerificationReport, VerificationSummary, VerifyBatchRef } from '../types/verify';
import { writeReportFiles } from './reports';

/** Mismatch lines the workflow keeps (and shows in its notes); the report file has every one. */
export const MISMATCHES_KEPT = 20;
import { verifyTopics } from '../verify/verifyTopics';

export async function verifyBatch(input: {
  spec: MigrationSpec;
  migration: string;
  batch: VerifyBatchRef;
  afterCutover?: boolean;
}): Promise<VerificationReport> {
  const { spec } = input;
  const loadMap = offsetMapLoader(spec.target, input.migration);
  let source: ClusterClients | undefined;
  let target: ClusterClients | undefined;
  try {
    // openClusterClients tags its connection errors with the cluster's role.
    source = await openClusterClients(spec.source, 'source', 'verify');
    target = await openClusterClients(spec.target, 'target', 'verify');
    return await verifyTopics({
      migration: input.migration,
      batch: input.batch,
      unsupportedTopicConfigs: effectiveProfile(spec.target).unsupportedTopicConfigs,
      clients: { source, target, loadMap },
      afterCutover: input.afterCutover === true,
    });
  } catch (e) {
    // A batch topic missing on the target from the start is a mismatch of the report; one deleted on either side
    // while it is read fails the reads: SourceTopicMissing / TargetTopicMissing then.
    const topics = input.batch.topics.map((t) => t.name);
    throw (
      (await explainMissingTopics(e, { topics, source: spec.source, target: spec.target, action: 'verifyBatch' })) ??
      failureOnTaggedCluster(e, spec, 'verifyBatch')
    );
  } finally {
    await Promise.all([source?.close(), target?.close()]);
  }
}

/** The workflow's step: verifyBatch, its report written here, a summary returned (history stays small). */
export async function verifyBatchAndReport(input: {
  spec: MigrationSpec;
  migration: string;
  batch: VerifyBatchRef;
  fileStem: string;
}): Promise<VerificationSummary> {
  // The workflow verifies once the batch's clients may use the target.
  const report = await verifyBatch({ ...input, afterCutover: true });
  const files = await writeReportFiles({ spec: input.spec, fileStem: input.fileStem, kind: 'verification', data: report });
  return {
    ok: report.ok,
    durationMs: report.durationMs,
    partitions: report.partitions.length,
    groups: report.groups.length,
    mismatchCount: report.mismatches.length,
    mismatches: report.mismatches.slice(0, MISMATCHES_KEPT),
    report: files,
  };
}
