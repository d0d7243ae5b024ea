/**
 * Crash recovery. Nobody but the migration writes to a target topic before cutover, so records on the
 * target beyond the durable checkpoint were written by an earlier attempt after its last checkpoint. They
 * are matched, in order, against the next committed source records (key, value, headers, timestamp) and
 * mapped; copying then continues after them. Anything else on the target is someone else's write.
 */
import type { InternalCluster } from './kafkaInternals';
import { PartitionReader } from './partitionReader';
import { READ_COMMITTED, READ_UNCOMMITTED } from './fetchProtocol';
import { describeRecordDifference, sameRecordContent, type KafkaRecord } from './kafkaRecord';
import { appendMapping } from './offsetRuns';
import { NonRetryableCopyError } from './copyErrors';
import type { PartitionOffsetMap } from '../types/copy';

/** How long the source may offer nothing while target records are still unmatched. */
const SOURCE_SILENCE_MS = 10000;

export interface TailToReconcile {
  map: PartitionOffsetMap & { checkpoint: NonNullable<PartitionOffsetMap['checkpoint']> };
  /** The target partition's end offset (high watermark). */
  targetEnd: number;
}

interface Cursor {
  item: TailToReconcile;
  source: KafkaRecord[];
  target: KafkaRecord[];
  sourceIdle: number;
}

/** Maps every target record in [checkpoint.targetNext, targetEnd) to its source record; updates the maps in place. */
export async function reconcileTargetTail(source: InternalCluster, target: InternalCluster, items: TailToReconcile[], signal?: AbortSignal): Promise<void> {
  if (items.length === 0) return;
  // After a worker crash every copy activity of a batch reconciles at once: keep each reader's read-ahead small
  // (at most 8 MB per side per activity). Not under the copy budget: the source side waits for target records,
  // and a shared budget held by one side could starve the other.
  const opts = { partitionFetchBytes: 1024 * 1024, maxBufferedBytes: 8 * 1024 * 1024, maxWaitMs: 200 };
  const targetReader = new PartitionReader(
    target,
    items.map(({ map, targetEnd }) => ({ topic: map.topic, partition: map.partition, position: map.checkpoint.targetNext, stopAt: targetEnd })),
    { ...opts, isolationLevel: READ_UNCOMMITTED, cluster: 'target' },
  );
  const sourceReader = new PartitionReader(
    source,
    items.map(({ map }) => ({ topic: map.topic, partition: map.partition, position: map.checkpoint.sourceNext })),
    { ...opts, isolationLevel: READ_COMMITTED, cluster: 'source' },
  );
  targetReader.start();
  sourceReader.start();
  try {
    let open: Cursor[] = items.map((item) => ({ item, source: [], target: [], sourceIdle: Date.now() }));
    while (open.length) {
      if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
      let progressed = false;
      for (const c of open) if (step(c, sourceReader, targetReader)) progressed = true;
      // Without progress, wait for the next fetch: what is buffered (read-ahead of one side) cannot be used yet.
      if (!progressed) await Promise.race([targetReader.waitForNewData(200), sourceReader.waitForNewData(200)]);
      else await new Promise((r) => setImmediate(r)); // let fetch responses and heartbeats in between
      open = open.filter((c) => {
        if (c.item.map.checkpoint.targetNext < c.item.targetEnd) return true;
        // Reconciled: the source reader must not keep reading ahead (and holding buffers) for it.
        sourceReader.stopPartition(c.item.map.topic, c.item.map.partition);
        return false;
      });
    }
  } finally {
    await Promise.all([targetReader.close(), sourceReader.close()]);
  }
}

/** Takes and matches what it can; true when it took or matched anything. */
function step(c: Cursor, sourceReader: PartitionReader, targetReader: PartitionReader): boolean {
  let progressed = false;
  const { map, targetEnd } = c.item;
  const cp = map.checkpoint;
  const where = `${map.topic}:${map.partition}`;
  if (c.target.length === 0) {
    const t = targetReader.take(map.topic, map.partition, 1024 * 1024, (r) => r.size);
    if (t) {
      c.target.push(...t.records);
      progressed = true;
    }
  }
  if (c.source.length === 0) {
    const s = sourceReader.take(map.topic, map.partition, 1024 * 1024, (r) => r.size);
    if (s) {
      c.source.push(...s.records);
      c.sourceIdle = Date.now();
      progressed = true;
    }
  }
  const targetLogAppendTime = targetReader.info(map.topic, map.partition).logAppendTime;
  while (c.target.length && c.source.length) {
    const t = c.target.shift()!;
    const s = c.source.shift()!;
    if (t.offset !== cp.targetNext) {
      throw new NonRetryableCopyError(
        'TargetWrittenByOthers',
        `target partition ${where}: expected the record after the checkpoint at offset ${cp.targetNext}, found offset ${t.offset}: the target partition was altered outside the migration`,
      );
    }
    const same = targetLogAppendTime ? sameRecordContent({ ...t, timestamp: s.timestamp }, s) : sameRecordContent(t, s);
    if (!same) {
      throw new NonRetryableCopyError(
        'TargetWrittenByOthers',
        `target partition ${where} offset ${t.offset} is not a copy of source offset ${s.offset} (${describeRecordDifference(s, t)} differ): someone else writes to the target topic; stop that writer, then delete and recreate the target topic (or restore it) before resuming`,
      );
    }
    progressed = true;
    appendMapping(map.runs, s.offset, t.offset);
    cp.sourceNext = s.offset + 1;
    cp.targetNext = t.offset + 1;
    cp.recordsCopied++;
    cp.bytesCopied += s.size;
  }
  if (cp.targetNext < targetEnd && c.source.length === 0 && Date.now() - c.sourceIdle > SOURCE_SILENCE_MS) {
    const src = sourceReader.info(map.topic, map.partition);
    throw new NonRetryableCopyError(
      'TargetWrittenByOthers',
      `target partition ${where} holds ${targetEnd - cp.targetNext} records beyond offset ${cp.targetNext} that have no counterpart on the source after offset ${cp.sourceNext} (the source partition's last stable offset is ${src.lastStableOffset}, its read position ${src.position}): someone else writes to the target topic`,
    );
  }
  return progressed;
}
