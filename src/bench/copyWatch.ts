/**
 * Times a copy from the outside, the same way for every copier: polls the target's end offsets every 500 ms
 * and measures from the first poll that sees copied records until the end offsets equal the source's. This
 * leaves out process start-up (JVM, MirrorMaker's connector start, Node) and counts the records copied
 * before the first poll out of the rate, so that the start-up of one tool is not charged to another.
 */
import type { Admin } from 'kafkajs';

export const POLL_MS = 500;

export interface CopyTiming {
  /** Records the copy had to deliver. */
  records: number;
  /** Records already there at the first poll that saw any: excluded from the rate. */
  recordsAtFirstSight: number;
  seconds: number;
  recordsPerSec: number;
  /** Records/s between 10 % and 90 % of the records: the rate without ramp-up and tail. */
  steadyRecordsPerSec: number | null;
  /** [seconds since first sight, records on the target] at every poll. */
  trace: [number, number][];
}

function steadyRate(trace: [number, number][], records: number): number | null {
  const lo = trace.find(([, n]) => n >= records * 0.1);
  const hi = trace.find(([, n]) => n >= records * 0.9);
  return lo && hi && hi[0] > lo[0] ? (hi[1] - lo[1]) / (hi[0] - lo[0]) : null;
}

/** Sum of the end offsets per topic (a topic that does not exist yet counts 0). */
export async function endOffsetsByTopic(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await Promise.all(
    topics.map(async (topic) => {
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      out.set(
        topic,
        offsets.reduce((n, o) => n + Number(o.high), 0),
      );
    }),
  );
  return out;
}

export interface WatchOptions {
  admin: Admin;
  /**
   * Topic -> records it must hold when the copy is done (its source's end offsets summed; the target topics
   * start empty). A copy never adds records, so equal sums mean equal end offsets partition by partition.
   */
  expected: Map<string, number>;
  timeoutMs: number;
  /** Returns an error when the copier died: the watch stops with it. */
  failure?: () => Error | undefined;
  /** What is copying, for messages. */
  what: string;
}

export async function watchCopy(o: WatchOptions): Promise<CopyTiming> {
  const records = [...o.expected.values()].reduce((a, b) => a + b, 0);
  const deadline = Date.now() + o.timeoutMs;
  let first: { at: number; total: number } | undefined;
  let last = 0;
  const trace: [number, number][] = [];
  for (;;) {
    const polledAt = Date.now();
    const byTopic = await endOffsetsByTopic(o.admin, [...o.expected.keys()]);
    const total = [...byTopic.values()].reduce((a, b) => a + b, 0);
    last = total;
    if (!first && total > 0) first = { at: polledAt, total };
    if (first) trace.push([(polledAt - first.at) / 1000, total]);
    const complete = [...o.expected].every(([topic, end]) => (byTopic.get(topic) ?? 0) >= end);
    if (complete && first) {
      // Finished before a second poll: the copy took at most one poll interval.
      const seconds = Math.max((polledAt - first.at) / 1000, POLL_MS / 1000);
      const counted = first.at === polledAt ? records : records - first.total;
      return {
        records,
        recordsAtFirstSight: first.at === polledAt ? 0 : first.total,
        seconds,
        recordsPerSec: counted / seconds,
        steadyRecordsPerSec: steadyRate(trace, records),
        trace,
      };
    }
    const failed = o.failure?.();
    if (failed) throw failed;
    if (Date.now() > deadline)
      throw new Error(`${o.what}: the target holds ${last} of ${records} records after ${Math.round(o.timeoutMs / 1000)} s; giving up`);
    await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (Date.now() - polledAt))));
  }
}
