/**
 * Verification activity: after the drain, proves that the target holds exactly what the source held (see
 * src/verify/verifyTopics.ts). Long-running on big topics: it streams and heartbeats.
 */
import type { MigrationSpec } from '../config/spec';
import { effectiveProfile } from '../config/profiles';
import { openClusterClients, type ClusterClients } from '../copy/clusterClients';
import { failureOnTaggedCluster } from '../cutover/clusterRole';
import { offsetMapLoader } from '../cutover/offsetMaps';
import type { VerificationReport, VerificationSummary, VerifyBatchRef } from '../types/verify';
import { writeReportFiles } from './reports';

/** Mismatch lines the workflow keeps (and shows in its notes); the report file has every one. */
export const MISMATCHES_KEPT = 20;
import { verifyTopics } from '../verify/verifyTopics';

export async function verifyBatch(input: { spec: MigrationSpec; migration: string; batch: VerifyBatchRef }): Promise<VerificationReport> {
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
    });
  } catch (e) {
    throw failureOnTaggedCluster(e, spec, 'verifyBatch');
  } finally {
    await Promise.all([source?.close(), target?.close()]);
  }
}

/** The workflow's step: verifyBatch, its report written here, a summary returned (history stays small). */
export async function verifyBatchAndReport(input: { spec: MigrationSpec; migration: string; batch: VerifyBatchRef; fileStem: string }): Promise<VerificationSummary> {
  const report = await verifyBatch(input);
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
