/**
 * Compares one partition's source range with its copy, walking both sides in lock-step (bounded memory):
 * - counts and order-sensitive digests of each side, computed independently of the offset map;
 * - map consistency: the source record at offset s must be on the target at translateOffset(map, s), and the
 *   target must hold nothing else in the compared range (an extra, missing or changed record is named with
 *   its offsets and the differing fields);
 * - probes: the first record at or after given offsets on each side (for the group offset check).
 */
import type { KafkaMessage } from 'kafkajs';
import type { KafkaRecord } from '../copy/kafkaRecord';
import type { VerifiedRecord } from './independent/record';
import { translateOffset } from '../copy/translateOffset';
import type { PartitionOffsetMap } from '../types/copy';
import type { PartitionVerification } from '../types/verify';
import { heartbeatProgress, throwIfCancelled } from '../cutover/activityContext';
import { describeRecordDifference, PartitionDigest, recordDigest, toDigestRecord, type DigestRecord } from './recordDigest';

/** The first record at or after a probed offset: its offset and content digest, or null at the range's end. */
export type ProbeHit = { offset: number; digest: string } | null;

export interface SideInput {
  /** The side's records in offset order: raw records (verification decoder, or the copy engine's) or kafkajs messages. */
  records: AsyncIterable<VerifiedRecord | KafkaRecord | KafkaMessage>;
  start: number;
  end: number;
  /** Offsets to fingerprint (see ProbeHit). */
  probes: number[];
}

export interface ComparePartitionInput {
  topic: string;
  partition: number;
  source: SideInput;
  target: SideInput;
  /** null: no offset map, only counts and digests can be compared. */
  map: PartitionOffsetMap | null;
  includeTimestamp: boolean;
  /** Detailed mismatch lines kept per partition; the rest are counted. */
  maxDetails?: number;
}

export interface ComparePartitionResult {
  verification: PartitionVerification;
  sourceProbes: Map<number, ProbeHit>;
  targetProbes: Map<number, ProbeHit>;
}

/** Resolves probes while records stream by in offset order. */
class Prober {
  private readonly pending: number[];
  readonly hits = new Map<number, ProbeHit>();
  constructor(probes: number[]) {
    this.pending = [...new Set(probes)].sort((a, b) => a - b);
  }
  see(offset: number, digest: Buffer): void {
    while (this.pending.length && this.pending[0] <= offset) this.hits.set(this.pending.shift()!, { offset, digest: digest.toString('hex') });
  }
  finish(): void {
    for (const p of this.pending.splice(0)) this.hits.set(p, null);
  }
}

interface Item {
  record: DigestRecord;
  digest: Buffer;
}

class Side {
  private readonly it: AsyncIterator<VerifiedRecord | KafkaRecord | KafkaMessage>;
  readonly digest = new PartitionDigest();
  readonly prober: Prober;
  current: Item | null = null;
  constructor(
    input: SideInput,
    private readonly includeTimestamp: boolean,
  ) {
    this.it = input.records[Symbol.asyncIterator]();
    this.prober = new Prober(input.probes);
  }
  async advance(): Promise<void> {
    const next = await this.it.next();
    if (next.done) {
      this.current = null;
      this.prober.finish();
      return;
    }
    const record = toDigestRecord(next.value);
    const digest = recordDigest(record, { includeTimestamp: this.includeTimestamp });
    this.digest.add(digest);
    this.prober.see(record.offset, digest);
    this.current = { record, digest };
  }
}

export async function comparePartition(input: ComparePartitionInput): Promise<ComparePartitionResult> {
  const where = `${input.topic}:${input.partition}`;
  const maxDetails = input.maxDetails ?? 20;
  const opts = { includeTimestamp: input.includeTimestamp };
  const details: string[] = [];
  let hidden = 0;
  let mapProblems = 0;
  const problem = (line: string) => {
    mapProblems++;
    if (details.length < maxDetails) details.push(`${where}: ${line}`);
    else hidden++;
  };
  const expectedTarget = (sourceOffset: number): number | string => {
    if (!input.map) return 'no offset map';
    try {
      return translateOffset(input.map, sourceOffset);
    } catch (e) {
      return (e as Error).message;
    }
  };

  const src = new Side(input.source, input.includeTimestamp);
  const tgt = new Side(input.target, input.includeTimestamp);
  await Promise.all([src.advance(), tgt.advance()]);
  let walked = 0;
  while (src.current || tgt.current) {
    if (++walked % 2000 === 0) {
      throwIfCancelled();
      heartbeatProgress({ phase: 'verify', partition: where, records: walked });
    }
    const s = src.current;
    const t = tgt.current;
    if (!input.map) {
      // Without a map, only the digests below can judge the partition; just drain both sides.
      await Promise.all([s ? src.advance() : undefined, t ? tgt.advance() : undefined]);
      continue;
    }
    const expected = s ? expectedTarget(s.record.offset) : undefined;
    if (s && typeof expected === 'string') {
      problem(`source offset ${s.record.offset} cannot be mapped: ${expected}`);
      await src.advance();
      continue;
    }
    if (s && t && t.record.offset === expected) {
      if (!s.digest.equals(t.digest)) {
        const fields = describeRecordDifference(s.record, t.record, opts);
        problem(`source offset ${s.record.offset} -> target offset ${t.record.offset}: record differs (${fields.join('; ') || 'content'})`);
      }
      await Promise.all([src.advance(), tgt.advance()]);
    } else if (t && (!s || t.record.offset < (expected as number))) {
      problem(`target offset ${t.record.offset} holds a record no source record maps to (extra record on the target)`);
      await tgt.advance();
    } else if (s) {
      problem(
        `source offset ${s.record.offset} is missing on the target: expected at target offset ${expected as number}, ${t ? `next target record is at ${t.record.offset}` : 'the target range ends before it'}`,
      );
      await src.advance();
    }
  }
  if (hidden) details.push(`${where}: ... and ${hidden} more record mismatches`);

  const sourceSide = { start: input.source.start, end: input.source.end, records: src.digest.records, digest: src.digest.finish() };
  const targetSide = { start: input.target.start, end: input.target.end, records: tgt.digest.records, digest: tgt.digest.finish() };
  const contentEqual = sourceSide.records === targetSide.records && sourceSide.digest === targetSide.digest;
  const mismatches: string[] = [];
  if (sourceSide.records !== targetSide.records) {
    mismatches.push(
      `${where}: record count differs: source ${sourceSide.records} in [${sourceSide.start}, ${sourceSide.end}), target ${targetSide.records} in [${targetSide.start}, ${targetSide.end})`,
    );
  } else if (!contentEqual) {
    mismatches.push(
      `${where}: digest differs over ${sourceSide.records} records (source ${sourceSide.digest.slice(0, 16)}…, target ${targetSide.digest.slice(0, 16)}…)`,
    );
  }
  if (!input.map) mismatches.push(`${where}: no offset map found for this partition: record positions cannot be checked`);
  mismatches.push(...details);
  return {
    verification: {
      topic: input.topic,
      partition: input.partition,
      source: sourceSide,
      target: targetSide,
      contentEqual,
      mapConsistent: input.map !== null && mapProblems === 0,
      timestampsIgnored: !input.includeTimestamp,
      mismatches,
      notes: [],
    },
    sourceProbes: src.prober.hits,
    targetProbes: tgt.prober.hits,
  };
}
