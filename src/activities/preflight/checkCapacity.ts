/**
 * Capacity: the source's write throughput over a sample window (end-offset deltas × sampled record sizes),
 * per topic and in total, against the target's rated write/read MB/s and partition limit. Read throughput
 * is write throughput times the number of consumer groups reading the topic (at least one).
 */
import type { Admin } from 'kafkajs';
import { scopeMatcher } from '../../plan/scope';
import type { CheckResult, Verdict } from '../../types/preflight';
import { inScopeTopics, onCluster, result, sleepWithHeartbeat, worstVerdict, type CheckInput } from './common';
import { describeGroupsInDetail, listGroups } from './groups';
import { sampleRecords, type SamplePartition } from './sampleRecords';

const ID = 'capacity';
const TITLE = 'Target capacity';
/** 1 MB = 10^6 bytes, as throughput ratings are usually quoted. */
const MB = 1_000_000;
const RECORDS_PER_PARTITION = 5;
const MAX_SAMPLED_PARTITIONS = 200;

type Offsets = Map<string, Map<number, number>>;

async function endOffsets(admin: Admin, topics: string[]): Promise<Offsets> {
  const out: Offsets = new Map();
  for (const t of topics) out.set(t, new Map((await admin.fetchTopicOffsets(t)).map((p) => [p.partition, Number(p.high)])));
  return out;
}

export function ratioVerdict(ratio: number, warnRatio: number): Verdict {
  if (ratio > 1) return 'fail';
  if (ratio > warnRatio) return 'warn';
  return 'pass';
}

const round = (n: number, digits = 4) => Number(n.toFixed(digits));
const pct = (r: number) => `${(r * 100).toFixed(1)} %`;

/** Activity: samples the source's write rate for thresholds.capacitySampleSeconds and compares it with target.capacity. */
export async function checkCapacity(input: CheckInput): Promise<CheckResult> {
  const { spec } = input;
  const cap = spec.target.capacity;
  const warnRatio = spec.thresholds.capacityWarnRatio;
  const scope = scopeMatcher(spec);

  const measured = await onCluster(spec, 'source', 'checkCapacity', async (admin) => {
    const topics = await inScopeTopics(spec, admin);
    const first = await endOffsets(admin, topics);
    const started = Date.now();
    await sleepWithHeartbeat(spec.thresholds.capacitySampleSeconds * 1000, { phase: 'sampling end offsets' });
    const second = await endOffsets(admin, topics);
    const seconds = (Date.now() - started) / 1000;
    const groups = await describeGroupsInDetail(
      admin,
      (await listGroups(admin, spec.source)).filter((g) => scope.group(g.groupId) && g.protocolType === 'consumer'),
    );
    return { topics, first, second, seconds, groups };
  });

  // Record sizes: the last few records of the partitions written during the window (else of any non-empty one).
  const parts: SamplePartition[] = [];
  for (const t of measured.topics) {
    for (const [p, end] of measured.second.get(t) ?? []) {
      const start = measured.first.get(t)?.get(p) ?? end;
      if (end > start) parts.push({ topic: t, partition: p, from: Math.max(start, end - RECORDS_PER_PARTITION), to: end });
    }
  }
  const sample = parts.length
    ? await sampleRecords(spec.source, 'source', parts.slice(0, MAX_SAMPLED_PARTITIONS), {
        groupId: `${spec.source.clientId}-preflight-capacity-${spec.name}`,
        maxPerPartition: RECORDS_PER_PARTITION,
        timeoutMs: 15000,
      })
    : undefined;
  const sampled = Object.entries(sample?.read ?? {});
  const totalSampled = sampled.reduce((a, [, s]) => ({ records: a.records + s.records, bytes: a.bytes + s.bytes }), { records: 0, bytes: 0 });
  const overallAvg = totalSampled.records ? totalSampled.bytes / totalSampled.records : 0;

  const readers = new Map<string, string[]>();
  for (const g of measured.groups) for (const t of g.topics) readers.set(t, [...(readers.get(t) ?? []), g.groupId]);

  const perTopic = measured.topics.map((t) => {
    const first = measured.first.get(t)!;
    const second = measured.second.get(t)!;
    const records = [...second].reduce((n, [p, end]) => n + Math.max(0, end - (first.get(p) ?? end)), 0);
    const own = sampled
      .filter(([k]) => k.slice(0, k.lastIndexOf(':')) === t)
      .reduce((a, [, s]) => ({ records: a.records + s.records, bytes: a.bytes + s.bytes }), { records: 0, bytes: 0 });
    const avgRecordBytes = own.records ? own.bytes / own.records : overallAvg;
    const writeMBps = ((records / measured.seconds) * avgRecordBytes) / MB;
    const groups = readers.get(t) ?? [];
    return {
      topic: t,
      partitions: second.size,
      recordsWritten: records,
      recordsPerSecond: round(records / measured.seconds, 2),
      avgRecordBytes: Math.round(avgRecordBytes),
      sizeFrom: own.records ? 'sampled' : records ? 'average of sampled topics' : 'not written',
      writeMBps: round(writeMBps),
      readingGroups: groups,
      readMBps: round(writeMBps * Math.max(1, groups.length)),
    };
  });

  const targetPartitions = await onCluster(spec, 'target', 'checkCapacity', async (admin) => {
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
    if (names.length === 0) return { existing: 0, sameName: 0 };
    const meta = await admin.fetchTopicMetadata({ topics: names });
    const inScope = new Set(measured.topics);
    const count = (filter: (t: string) => boolean) => meta.topics.filter((t) => filter(t.name)).reduce((n, t) => n + t.partitions.length, 0);
    return { existing: count((t) => !inScope.has(t)), sameName: count((t) => inScope.has(t)) };
  });

  const writeMBps = perTopic.reduce((n, t) => n + t.writeMBps, 0);
  const readMBps = perTopic.reduce((n, t) => n + t.readMBps, 0);
  const sourcePartitions = perTopic.reduce((n, t) => n + t.partitions, 0);
  const partitionsNeeded = sourcePartitions + targetPartitions.existing;
  const ratios = { write: writeMBps / cap.writeMBps, read: readMBps / cap.readMBps, partitions: partitionsNeeded / cap.maxPartitions };
  const verdicts = {
    write: ratioVerdict(ratios.write, warnRatio),
    read: ratioVerdict(ratios.read, warnRatio),
    partitions: ratioVerdict(ratios.partitions, warnRatio),
  };
  const verdict = worstVerdict(Object.values(verdicts));
  const busiest = [...perTopic]
    .sort((a, b) => b.writeMBps - a.writeMBps)
    .filter((t) => t.writeMBps > 0)
    .slice(0, 5);

  const evidence = {
    sampleSeconds: round(measured.seconds, 1),
    unit: 'MB/s, 1 MB = 10^6 bytes of record payload (key + value + headers, uncompressed)',
    target: { ...cap, warnRatio },
    total: {
      writeMBps: round(writeMBps),
      readMBps: round(readMBps),
      partitions: { inScope: sourcePartitions, alreadyOnTarget: targetPartitions.existing, needed: partitionsNeeded },
      ratios: { write: round(ratios.write), read: round(ratios.read), partitions: round(ratios.partitions) },
      verdicts,
    },
    sampledRecords: totalSampled.records,
    perTopic,
    ...(sample?.unread.length ? { sizeNotSampled: sample.unread } : {}),
  };
  const rates = [
    `write ${round(writeMBps, 3)} MB/s of ${cap.writeMBps} (${pct(ratios.write)})`,
    `read ${round(readMBps, 3)} MB/s of ${cap.readMBps} (${pct(ratios.read)})`,
    `partitions ${partitionsNeeded} of ${cap.maxPartitions} (${pct(ratios.partitions)})`,
  ];
  const summary = `over ${round(measured.seconds, 1)} s: ${rates.join(', ')}${busiest.length ? `; busiest: ${busiest.map((t) => `${t.topic} ${t.writeMBps} MB/s`).join(', ')}` : ''}`;
  const over = (Object.keys(verdicts) as (keyof typeof verdicts)[]).filter((k) => verdicts[k] !== 'pass');
  const remediation =
    verdict === 'pass'
      ? `The sample covers ${round(measured.seconds, 1)} s: size the target for the peak, not for this moment (run the preflight at peak hours or raise thresholds.capacitySampleSeconds).`
      : `Over ${verdict === 'fail' ? '100 %' : `${pct(warnRatio)}`} of the target's rating on ${over.join(', ')}: scale the target (more brokers / a bigger plan) and update target.capacity, ` +
        'or narrow spec.scope and migrate in several migrations; a sample is a moment, so check against the peak as well.';
  return result(ID, TITLE, verdict, summary, evidence, remediation);
}
