/**
 * Reads a few records from given partitions with a throwaway consumer: the "real read" of the permission
 * check and the record sizes of the capacity check. Nothing is committed, and the group is deleted once the
 * consumer has left (src/kafka/toolGroups.ts), so that no later look lists it as a client.
 * A topic the user may not Read fails the whole fetch without naming the topic: the topic set is then
 * halved until each denied topic stands alone.
 */
import type { Consumer, KafkaMessage } from 'kafkajs';
import type { ClusterConnection } from '../../config/spec';
import { createKafka, type ClusterRole } from '../../kafka/clients';
import { deleteToolGroup } from '../../kafka/toolGroups';
import { errorText, heartbeat, kafkaErrorType } from './common';

export interface SamplePartition {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: number;
  /** End offset when planned (exclusive): nothing at or beyond it is counted. */
  to: number;
}

export interface PartitionSample {
  records: number;
  /** Payload bytes: key + value + header keys and values (uncompressed). */
  bytes: number;
}

export interface SampleOutcome {
  /** "topic:partition" -> what was read. */
  read: Record<string, PartitionSample>;
  /** Topics every leader served a fetch for (read, or empty where nothing was asked). */
  verifiedTopics: string[];
  /** Topics whose fetch was refused (TOPIC_AUTHORIZATION_FAILED). */
  deniedTopics: string[];
  /** The throwaway group id, when the user may not use it (GROUP_AUTHORIZATION_FAILED). */
  deniedGroup?: string;
  /** "topic:partition" with records to read that returned nothing in time. */
  unread: string[];
  /** Other errors (not an authorization problem). */
  errors: string[];
  /** Throwaway groups that could not be deleted after their read, with why (e.g. no DELETE on the group). */
  undeletedGroups: { group: string; error: string }[];
}

export interface SampleOptions {
  groupId: string;
  maxPerPartition: number;
  /** Per consumer run (one run, more while isolating denied topics). */
  timeoutMs: number;
}

export function messageBytes(m: KafkaMessage): number {
  let n = (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    n += Buffer.byteLength(k);
    for (const x of Array.isArray(v) ? v : [v]) n += x === undefined || x === null ? 0 : typeof x === 'string' ? Buffer.byteLength(x) : x.length; // a header may have no value
  }
  return n;
}

const key = (topic: string, partition: number) => `${topic}:${partition}`;

interface RunOutcome {
  read: Record<string, PartitionSample>;
  /** Every leader answered a fetch for these topics without an error. */
  verified: boolean;
  crash?: { type?: string; message: string };
  timedOut: boolean;
  /** Why the throwaway group could not be deleted afterwards. */
  notDeleted?: string;
}

/** One consumer over the given partitions' topics until every partition has its records, a crash, or the timeout. */
async function runOnce(conn: ClusterConnection, role: ClusterRole, parts: SamplePartition[], groupId: string, options: SampleOptions): Promise<RunOutcome> {
  const wanted = new Map(parts.filter((p) => p.to > p.from).map((p) => [key(p.topic, p.partition), Math.min(options.maxPerPartition, p.to - p.from)]));
  const plan = new Map(parts.map((p) => [key(p.topic, p.partition), p]));
  const read: Record<string, PartitionSample> = {};
  const topics = [...new Set(parts.map((p) => p.topic))];
  const kafka = createKafka(conn, role, { clientIdSuffix: 'preflight-read', retries: 0 });
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    rebalanceTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: 256 * 1024,
    allowAutoTopicCreation: false,
    retry: { retries: 0, restartOnFailure: async () => false },
  });
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  let crash: RunOutcome['crash'];
  let timedOut = false;
  // Empty partitions return nothing to count: a completed fetch from every leader proves they may be read.
  const started = new Set<number>();
  const fetched = new Set<number>();
  const complete = () => started.size > 0 && [...started].every((n) => fetched.has(n)) && [...wanted].every(([k, n]) => (read[k]?.records ?? 0) >= n);
  consumer.on(consumer.events.FETCH_START, ({ payload }) => started.add(payload.nodeId));
  consumer.on(consumer.events.FETCH, ({ payload }) => {
    fetched.add(payload.nodeId);
    if (complete()) finish();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    crash = { type: kafkaErrorType(payload.error), message: errorText(payload.error) };
    finish();
  });
  const timer = setTimeout(() => {
    timedOut = true;
    finish();
  }, options.timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat: hb }) => {
        const k = key(batch.topic, batch.partition);
        const p = plan.get(k);
        const n = wanted.get(k) ?? 0;
        if (!p) return;
        const s = (read[k] ??= { records: 0, bytes: 0 });
        for (const m of batch.messages) {
          if (s.records >= n || Number(m.offset) >= p.to) break;
          s.records++;
          s.bytes += messageBytes(m);
        }
        if (s.records >= n || Number(batch.lastOffset()) >= p.to - 1) consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
        heartbeat({ sampled: Object.keys(read).length });
        await hb();
        if (complete()) finish();
      },
    });
    for (const p of parts) if (p.to > p.from) consumer.seek({ topic: p.topic, partition: p.partition, offset: String(p.from) });
    await done;
  } catch (e) {
    crash = { type: kafkaErrorType(e), message: errorText(e) };
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  // A group the user may not use was never made; every other one is deleted now that its member left.
  const notDeleted = crash?.type === 'GROUP_AUTHORIZATION_FAILED' ? undefined : await deleteToolGroup(kafka, groupId);
  // Only a clean run proves the partitions it did not read had nothing to give.
  const ok = complete();
  return { read, crash, timedOut: timedOut && !ok, verified: ok && !crash, ...(notDeleted ? { notDeleted } : {}) };
}

/** Reads up to maxPerPartition records from each partition; isolates topics the user may not read. */
export async function sampleRecords(conn: ClusterConnection, role: ClusterRole, parts: SamplePartition[], options: SampleOptions): Promise<SampleOutcome> {
  const outcome: SampleOutcome = { read: {}, verifiedTopics: [], deniedTopics: [], unread: [], errors: [], undeletedGroups: [] };
  let runs = 0;
  const visit = async (subset: SamplePartition[]): Promise<void> => {
    if (subset.length === 0 || outcome.deniedGroup) return;
    const group = `${options.groupId}-${runs++}`;
    const run = await runOnce(conn, role, subset, group, options);
    Object.assign(outcome.read, run.read);
    if (run.notDeleted) outcome.undeletedGroups.push({ group, error: run.notDeleted });
    const type = run.crash?.type ?? '';
    if (type === 'GROUP_AUTHORIZATION_FAILED') {
      outcome.deniedGroup = options.groupId;
      return;
    }
    if (type === 'TOPIC_AUTHORIZATION_FAILED') {
      const topics = [...new Set(subset.map((p) => p.topic))].sort();
      if (topics.length === 1) {
        outcome.deniedTopics.push(topics[0]);
        return;
      }
      const half = new Set(topics.slice(0, Math.ceil(topics.length / 2)));
      const unreadFirst = (ps: SamplePartition[]) => ps.filter((p) => !run.read[key(p.topic, p.partition)]?.records);
      await visit(unreadFirst(subset.filter((p) => half.has(p.topic))));
      await visit(unreadFirst(subset.filter((p) => !half.has(p.topic))));
      return;
    }
    if (run.crash) outcome.errors.push(run.crash.message);
    if (run.verified) outcome.verifiedTopics.push(...new Set(subset.map((p) => p.topic)));
    for (const p of subset) {
      const k = key(p.topic, p.partition);
      if (p.to > p.from && !(run.read[k]?.records > 0) && (run.timedOut || run.crash)) outcome.unread.push(k);
    }
  };
  await visit(parts);
  outcome.deniedTopics.sort();
  outcome.verifiedTopics.sort();
  return outcome;
}
