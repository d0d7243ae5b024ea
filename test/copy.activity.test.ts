/** The copyRound activity: a thin wrapper that heartbeats progress, honours cancellation and maps failures. */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { copyRound, createTargetTopics } from '../src/activities/copy';
import type { PartitionProgress } from '../src/types/copy';
import { stackSpec, uniqueSuffix } from './helpers/stack';
import { createSourceTopic, produceToSource } from './helpers/copyFixtures';

test('follow round: caught up, it follows new records until roundSeconds, heartbeating progress; cancellation stops a drain cleanly', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `act-${s}`, copy: { roundSeconds: 6, heartbeatTimeoutSeconds: 4 } });
  const topic = `act-${s}`;
  await createSourceTopic(topic, 2);
  await produceToSource(
    topic,
    Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
  );
  const env = new MockActivityEnvironment();
  await env.run(createTargetTopics, { spec, topics: [topic] });
  const beats: PartitionProgress[][] = [];
  const caughtUp = new Promise<void>((resolve) =>
    env.on('heartbeat', (d: PartitionProgress[]) => {
      beats.push(d);
      if (Array.isArray(d) && d.length === 2 && d.every((p) => p.sourceNext === 25)) resolve();
    }),
  );
  const partitions = [0, 1].map((partition) => ({ topic, partition }));
  const started = Date.now();
  const round = env.run(copyRound, { spec, migration: spec.name, partitions, mode: 'follow' as const, readyMaxLagRecords: 0 });
  // Caught up, a follow round does not return: it follows the records written after that until roundSeconds.
  await caughtUp;
  const caughtUpAfter = Date.now() - started;
  await produceToSource(
    topic,
    Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `late${i}`, value: `late${i}` })),
  );
  const progress = await round;
  console.log(`follow round (roundSeconds 6): caught up after ${caughtUpAfter} ms, returned after ${Date.now() - started} ms`); // speed is the benchmark's job
  expect(progress).toEqual([
    expect.objectContaining({ topic, partition: 0, sourceNext: 30, targetNext: 30, recordsCopied: 30, lagRecords: 0, lagSeconds: 0, identicalOffsets: true }),
    expect.objectContaining({ topic, partition: 1, sourceNext: 30, targetNext: 30, recordsCopied: 30, lagRecords: 0, lagSeconds: 0, identicalOffsets: true }),
  ]);
  expect(beats.length).toBeGreaterThanOrEqual(2);
  expect(beats[beats.length - 1]).toEqual(expect.arrayContaining([expect.objectContaining({ topic, partition: 0, sourceNext: 30 })]));

  // A drain to an offset that never comes: cancelled from outside, it stops and reports cancellation.
  const cancelEnv = new MockActivityEnvironment();
  const draining = new Promise<void>((resolve) => cancelEnv.on('heartbeat', (d: PartitionProgress[]) => void (Array.isArray(d) && d.length && resolve())));
  const running = cancelEnv.run(copyRound, {
    spec,
    migration: spec.name,
    partitions,
    mode: 'drain' as const,
    stopAt: { [`${topic}:0`]: 1000, [`${topic}:1`]: 30 },
    readyMaxLagRecords: 0,
  });
  await draining; // the drain runs (its first heartbeat), waiting for offset 1000
  cancelEnv.cancel();
  await expect(running).rejects.toBeInstanceOf(CancelledFailure);

  // A missing target topic is a non-retryable failure that says what to do.
  const err = (await new MockActivityEnvironment()
    .run(copyRound, { spec, migration: spec.name, partitions: [{ topic: `${topic}-missing`, partition: 0 }], mode: 'follow' as const, readyMaxLagRecords: 0 })
    .catch((e: unknown) => e)) as ApplicationFailure;
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toMatch(/copyRound: .*missing/);
});
