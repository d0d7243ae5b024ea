/** The copyRound activity: a thin wrapper that heartbeats progress, honours cancellation and maps failures. */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { copyRound, createTargetTopics } from '../src/activities/copy';
import type { PartitionProgress } from '../src/types/copy';
import { stackSpec, uniqueSuffix } from './helpers/stack';
import { createSourceTopic, produceToSource } from './helpers/copyFixtures';

test('follow round: returns after roundSeconds with progress, heartbeating on the way; cancellation stops a drain cleanly', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `act-${s}`, copy: { roundSeconds: 2.5, heartbeatTimeoutSeconds: 4 } });
  const topic = `act-${s}`;
  await createSourceTopic(topic, 2);
  await produceToSource(topic, Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })));
  const env = new MockActivityEnvironment();
  await env.run(createTargetTopics, { spec, topics: [topic] });
  const beats: PartitionProgress[][] = [];
  env.on('heartbeat', (d: PartitionProgress[]) => beats.push(d));
  const partitions = [0, 1].map((partition) => ({ topic, partition }));
  const started = Date.now();
  const progress = await env.run(copyRound, { spec, migration: spec.name, partitions, mode: 'follow' as const, readyMaxLagRecords: 0 });
  expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
  expect(progress).toEqual([
    expect.objectContaining({ topic, partition: 0, sourceNext: 25, targetNext: 25, recordsCopied: 25, lagRecords: 0, lagSeconds: 0, identicalOffsets: true }),
    expect.objectContaining({ topic, partition: 1, sourceNext: 25, targetNext: 25, recordsCopied: 25, lagRecords: 0, lagSeconds: 0, identicalOffsets: true }),
  ]);
  expect(beats.length).toBeGreaterThanOrEqual(2);
  expect(beats[beats.length - 1]).toEqual(expect.arrayContaining([expect.objectContaining({ topic, partition: 0, sourceNext: 25 })]));

  // A drain to an offset that never comes: cancelled from outside, it stops and reports cancellation.
  const cancelEnv = new MockActivityEnvironment();
  const running = cancelEnv.run(copyRound, { spec, migration: spec.name, partitions, mode: 'drain' as const, stopAt: { [`${topic}:0`]: 1000, [`${topic}:1`]: 25 }, readyMaxLagRecords: 0 });
  await new Promise((r) => setTimeout(r, 1500));
  cancelEnv.cancel();
  await expect(running).rejects.toBeInstanceOf(CancelledFailure);

  // A missing target topic is a non-retryable failure that says what to do.
  const err = (await new MockActivityEnvironment().run(copyRound, { spec, migration: spec.name, partitions: [{ topic: `${topic}-missing`, partition: 0 }], mode: 'follow' as const, readyMaxLagRecords: 0 }).catch((e: unknown) => e)) as ApplicationFailure;
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toMatch(/copyRound: .*missing/);
});
