/**
 * Verification of a rollback, per partition: the source holds exactly what it held at the cutover (the forward
 * copy's end, untouched: the log only grows) followed by every committed record written on the target after
 * the forward copy's end, in order, with the same key, value, headers and timestamp; and nothing else. Both
 * sides are read with the verification decoder (src/verify/independent), not the copy engine's.
 */
import type { ClusterConnection } from '../config/spec';
import { openClusterClients } from '../copy/clusterClients';
import type { OffsetStoreSnapshot } from '../copy/offsetMapStore';
import { fetchPartitionBoundsOnCluster } from '../cutover/endOffsets';
import { onCluster } from '../kafka/clusterRole';
import { partitionKey, type TopicPartitionRef } from '../types/copy';
import type { RollbackPartitionCheck, RollbackVerificationReport } from '../types/rollback';
import { ISOLATION, VERIFICATION_DECODER } from '../verify/independent';
import { describeRecordDifference, recordDigest, toDigestRecord } from '../verify/recordDigest';
import { RangeReader } from '../verify/rangeReader';

const FETCH_BYTES = 1024 * 1024;

export async function verifyRollback(input: {
  migration: string;
  source: ClusterConnection;
  target: ClusterConnection;
  partitions: TopicPartitionRef[];
  forward: OffsetStoreSnapshot;
  reverse: OffsetStoreSnapshot;
}): Promise<RollbackVerificationReport> {
  const source = await openClusterClients(input.source, 'source', 'rollback-verify');
  try {
    const target = await openClusterClients(input.target, 'target', 'rollback-verify');
    try {
      const topics = [...new Set(input.partitions.map((p) => p.topic))];
      const [sourceBounds, targetBounds] = await Promise.all([
        onCluster('source', () => fetchPartitionBoundsOnCluster(source.cluster, topics)),
        onCluster('target', () => fetchPartitionBoundsOnCluster(target.cluster, topics)),
      ]);
      const checks: RollbackPartitionCheck[] = [];
      for (const p of input.partitions) {
        const key = partitionKey(p.topic, p.partition);
        const fwd = input.forward.get(p.topic, p.partition).checkpoint;
        const rev = input.reverse.get(p.topic, p.partition).checkpoint;
        const sEnd = sourceBounds[key]?.end;
        const tEnd = targetBounds[key]?.end;
        const check: RollbackPartitionCheck = { ...p, sourceBeforeCutover: fwd?.sourceNext ?? 0, writtenOnTarget: 0, copiedBack: 0, ok: false };
        checks.push(check);
        if (!fwd || !rev || sEnd === undefined || tEnd === undefined) {
          check.problem = !fwd ? 'no forward copy' : !rev ? 'no reverse copy' : 'partition missing on a cluster';
          continue;
        }
        if (rev.sourceNext !== tEnd) {
          check.problem = `the reverse copy reached target offset ${rev.sourceNext}, the target ends at ${tEnd}: not drained`;
          continue;
        }
        if (rev.targetNext !== sEnd) {
          check.problem = `the source ends at ${sEnd}, the reverse copy's next source offset is ${rev.targetNext}: records on the source that the reverse copy did not write`;
          continue;
        }
        const sourceReader = new RangeReader(source.cluster, [{ ...p, from: fwd.sourceNext, to: sEnd }], {
          role: 'source',
          isolationLevel: ISOLATION.readUncommitted,
          partitionFetchBytes: FETCH_BYTES,
        });
        const targetReader = new RangeReader(target.cluster, [{ ...p, from: fwd.targetNext, to: tEnd }], {
          role: 'target',
          isolationLevel: ISOLATION.readCommitted,
          partitionFetchBytes: FETCH_BYTES,
        });
        const src = sourceReader.records(p.topic, p.partition)[Symbol.asyncIterator]();
        const tgt = targetReader.records(p.topic, p.partition)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const [s, t] = await Promise.all([src.next(), tgt.next()]);
            if (!t.done) check.writtenOnTarget++;
            if (!s.done) check.copiedBack++;
            if (s.done || t.done) {
              if (!s.done || !t.done) {
                check.problem = s.done
                  ? `target offset ${t.value!.offset} (written on the target) is missing on the source`
                  : `source offset ${s.value!.offset} has no counterpart written on the target`;
              }
              break;
            }
            const a = toDigestRecord(s.value);
            const b = toDigestRecord(t.value);
            if (!recordDigest(a, { includeTimestamp: true }).equals(recordDigest(b, { includeTimestamp: true }))) {
              check.problem = `source offset ${s.value.offset} differs from target offset ${t.value.offset}: ${describeRecordDifference(a, b, { includeTimestamp: true }).join(', ')}`;
              break;
            }
          }
        } finally {
          await Promise.allSettled([src.return?.(undefined), tgt.return?.(undefined)]);
          await Promise.all([sourceReader.close(), targetReader.close()]);
        }
        check.ok = check.problem === undefined;
      }
      const mismatches = checks.filter((c) => !c.ok).map((c) => `${c.topic}:${c.partition}: ${c.problem}`);
      return {
        migration: input.migration,
        at: new Date().toISOString(),
        ok: mismatches.length === 0,
        partitions: checks,
        mismatches,
        decoder: VERIFICATION_DECODER.id,
      };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
