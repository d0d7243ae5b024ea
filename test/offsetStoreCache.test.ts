/**
 * The offset store's process-wide incremental cache against the real target: after more copying, concurrent
 * cached reads equal a full read from the store's start, and callers mutating what they got cannot corrupt it.
 */
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { createTopicsOnTarget } from '../src/copy/targetTopics';
import { openClusterClients } from '../src/copy/clusterClients';
import { readOffsetStore, targetIdOf, type OffsetStoreSnapshot } from '../src/copy/offsetMapStore';
import { stackSpec, uniqueSuffix } from './helpers/stack';
import { createSourceTopic, produceToSource, sourceEndOffsets } from './helpers/copyFixtures';

const PARTITIONS = 3;

function mapsOf(snapshot: OffsetStoreSnapshot, topic: string) {
  return Array.from({ length: PARTITIONS }, (_, p) => snapshot.get(topic, p));
}

test('cached reads continue from where the last one ended and equal a full read', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `store-cache-${s}` });
  const topic = `store-cache-${s}`;
  await createSourceTopic(topic, PARTITIONS);
  await produceToSource(
    topic,
    Array.from({ length: 900 }, (_, i) => ({ partition: i % PARTITIONS, key: `k${i}`, value: `v${i}` })),
  );
  await createTopicsOnTarget(spec, spec.name, [topic]);
  const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }));
  const copyTo = async (stopAt: Record<string, number>) =>
    copyPartitionsUntil({ source: spec.source, target: spec.target, migration: spec.name, partitions, stopAt, maxBatchBytes: 4096 });

  const target = await openClusterClients(spec.target, 'target', 'test');
  try {
    const read = (cached: boolean) => readOffsetStore(target.cluster, target.admin, spec.name, cached ? targetIdOf(spec.target) : undefined);
    await copyTo(await sourceEndOffsets(topic));
    const first = await read(true);
    expect(mapsOf(first, topic).map((m) => m.checkpoint?.sourceNext)).toEqual([300, 300, 300]);

    // A caller mutating its maps (the copy engine does) must not change what the cache hands out next.
    const mine = first.get(topic, 0);
    mine.checkpoint!.sourceNext = 999;
    mine.runs.push({ sourceStart: 5000, targetStart: 5000, count: 1 });

    await produceToSource(
      topic,
      Array.from({ length: 300 }, (_, i) => ({ partition: i % PARTITIONS, key: `late${i}`, value: 'late' })),
    );
    await copyTo(await sourceEndOffsets(topic));
    const [full, ...cached] = await Promise.all([read(false), read(true), read(true), read(true)]);
    expect(mapsOf(full, topic).map((m) => m.checkpoint?.sourceNext)).toEqual([400, 400, 400]);
    for (const c of cached) expect(mapsOf(c, topic)).toEqual(mapsOf(full, topic));
    expect(full.owner(topic)).toEqual(cached[0].owner(topic));
  } finally {
    await target.close();
  }
}, 60_000);
