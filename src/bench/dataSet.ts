/**
 * The benchmark's data set on the source: per value-size variant, N topics x P partitions filled by
 * ProducerPerformance through the super-user listener. Every copier (and the raw-limit run) gets exactly
 * this volume.
 */
import type { Admin } from 'kafkajs';
import { endpoints, type DataSetShape, type Variant } from './settings';
import { createTopics } from './topics';
import { producePerTopic } from './producerPerformance';
import { endOffsetsByTopic } from './copyWatch';

export interface VariantData {
  variant: Variant;
  /** Source topics of this variant. */
  topics: string[];
  /** Topic -> records on the source (its end offsets summed). */
  records: Map<string, number>;
  totalRecords: number;
  /** Value bytes of all records: what MB/s counts. */
  valueBytes: number;
  /** ProducerPerformance's own rate writing it to the source, for reference. */
  fillMiBPerSec: number;
}

export const variantSlug = (v: Variant) => `v${v.valueBytes}`;

export async function fillSource(sourceAdmin: Admin, id: string, shape: DataSetShape, say: (l: string) => void): Promise<VariantData[]> {
  const out: VariantData[] = [];
  for (const variant of shape.variants) {
    const topics = Array.from({ length: shape.topics }, (_, i) => `kmbench-${id}-${variantSlug(variant)}-t${i}`);
    await createTopics(sourceAdmin, topics, shape.partitionsPerTopic);
    const volume = (shape.topics * variant.recordsPerTopic * variant.valueBytes) / 1e6;
    say(
      `writing ${variant.label} data to the source: ${topics.length} topics x ${shape.partitionsPerTopic} partitions, ${(shape.topics * variant.recordsPerTopic).toLocaleString('en-US')} records, ${volume.toFixed(0)} MB`,
    );
    const runs = await producePerTopic(endpoints.sourceAdmin, topics, variant.recordsPerTopic, variant.valueBytes);
    const records = await endOffsetsByTopic(sourceAdmin, topics);
    const totalRecords = [...records.values()].reduce((a, b) => a + b, 0);
    if (totalRecords !== shape.topics * variant.recordsPerTopic) {
      throw new Error(`source topics of the ${variant.label} variant hold ${totalRecords} records, expected ${shape.topics * variant.recordsPerTopic}`);
    }
    out.push({
      variant,
      topics,
      records,
      totalRecords,
      valueBytes: totalRecords * variant.valueBytes,
      fillMiBPerSec: runs.reduce((n, r) => n + r.mibPerSec, 0),
    });
  }
  return out;
}
