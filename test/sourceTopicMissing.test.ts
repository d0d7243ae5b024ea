/**
 * Defect 4: a topic of the running batch deleted (on the source, or on the target). Every batch activity that
 * touches it fails non-retryable SourceTopicMissing / TargetTopicMissing naming exactly the deleted topics
 * (details[0] = { topics }), so the workflow can block the batch and let the operator exclude them; a topic
 * deleted while a copy round or a quiet check runs fails that activity too, instead of it carrying on.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { copyRound, createTargetTopics, syncPartitionCounts } from '../src/activities/copy';
import { sampleEndOffsets, waitForQuietSource } from '../src/activities/cutover';
import { deleteTargetTopics } from '../src/activities/rollback';
import { verifyBatch, verifyBatchAndReport } from '../src/activities/verify';
import type { MigrationSpec } from '../src/config/spec';
import type { PartitionProgress } from '../src/types/copy';
import { NON_RETRYABLE_FAILURE_TYPES } from '../src/types/failureTypes';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { createSourceTopic, produceToSource } from './helpers/copyFixtures';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function deleteTopic(cluster: 'source' | 'target', topic: string): Promise<void> {
  const admin = (cluster === 'source' ? sourceAdminKafka() : targetKafka()).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 30000 });
  } finally {
    await admin.disconnect();
  }
}

/** The failure an activity ends with (it must end with one). */
async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await run.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected the activity to fail, it returned ${JSON.stringify(outcome.value).slice(0, 300)}`);
  expect(outcome.error).toBeInstanceOf(ApplicationFailure);
  return outcome.error as ApplicationFailure;
}

function expectMissing(f: ApplicationFailure, type: 'SourceTopicMissing' | 'TargetTopicMissing', action: string, topics: string[]): void {
  expect({ type: f.type, nonRetryable: f.nonRetryable, details: f.details }).toEqual({ type, nonRetryable: true, details: [{ topics }] });
  expect(f.message).toMatch(new RegExp(`^${action}: `));
  for (const t of topics) expect(f.message).toContain(t);
}

const s = uniqueSuffix();
let spec: MigrationSpec;
const kept = `gone-kept-${s}`;
const gone = `gone-src-${s}`;
const partitionsOf = (topic: string) => [0, 1].map((partition) => ({ topic, partition }));

beforeAll(async () => {
  spec = stackSpec({ name: `gone-${s}`, copy: { roundSeconds: 60 }, reports: { dir: mkdtempSync(join(tmpdir(), 'km-gone-')) } });
  for (const t of [kept, gone]) {
    await createSourceTopic(t, 2);
    await produceToSource(
      t,
      Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
    );
  }
  await createTargetTopics({ spec, topics: [kept, gone] });
});

test('a source topic deleted while a follow round copies it fails the round (SourceTopicMissing naming it) long before the round would end', async () => {
  const env = new MockActivityEnvironment();
  // The round has copied both topics (its progress heartbeat says so) and follows them when `gone` is deleted.
  const following = new Promise<void>((resolve) =>
    env.on('heartbeat', (d: PartitionProgress[]) => void (Array.isArray(d) && d.length === 4 && d.every((p) => p.sourceNext === 10) && resolve())),
  );
  const running = env.run(copyRound, {
    spec,
    migration: spec.name,
    partitions: [...partitionsOf(kept), ...partitionsOf(gone)],
    mode: 'follow' as const,
    readyMaxLagRecords: 0,
  });
  await following;
  const deleted = Date.now();
  await deleteTopic('source', gone);
  const f = await failureOf(running);
  console.log(`copyRound failed ${Date.now() - deleted} ms after the deletion (the round was 60 s)`);
  expectMissing(f, 'SourceTopicMissing', 'copyRound', [gone]);
});

test('every batch activity that touches the deleted source topic fails SourceTopicMissing with { topics } at once', async () => {
  // (`gone` was deleted by the previous test; run alone, this test deletes it itself.)
  await deleteTopic('source', gone).catch(() => undefined);
  const topics = [kept, gone];
  const env = () => new MockActivityEnvironment();
  expectMissing(await failureOf(env().run(createTargetTopics, { spec, topics })), 'SourceTopicMissing', 'createTargetTopics', [gone]);
  expectMissing(await failureOf(env().run(syncPartitionCounts, { spec, topics })), 'SourceTopicMissing', 'syncPartitionCounts', [gone]);
  const partitions = [...partitionsOf(kept), ...partitionsOf(gone)];
  expectMissing(
    await failureOf(env().run(copyRound, { spec, migration: spec.name, partitions, mode: 'follow' as const, readyMaxLagRecords: 0 })),
    'SourceTopicMissing',
    'copyRound',
    [gone],
  );
  const stopAt = Object.fromEntries(partitions.map((p) => [`${p.topic}:${p.partition}`, 10]));
  expectMissing(
    await failureOf(env().run(copyRound, { spec, migration: spec.name, partitions, mode: 'drain' as const, stopAt, readyMaxLagRecords: 0 })),
    'SourceTopicMissing',
    'copyRound',
    [gone],
  );
  expectMissing(await failureOf(env().run(sampleEndOffsets, { spec, topics })), 'SourceTopicMissing', 'sampleEndOffsets', [gone]);
  expectMissing(await failureOf(env().run(waitForQuietSource, { spec, topics, quietSeconds: 1 })), 'SourceTopicMissing', 'waitForQuietSource', [gone]);
  const batch = { number: 1, name: 'gone', topics: topics.map((name) => ({ name })), groups: [] };
  expectMissing(await failureOf(env().run(verifyBatch, { spec, migration: spec.name, batch })), 'SourceTopicMissing', 'verifyBatch', [gone]);
  expectMissing(
    await failureOf(env().run(verifyBatchAndReport, { spec, migration: spec.name, batch, fileStem: 'batch-1-gone' })),
    'SourceTopicMissing',
    'verifyBatch',
    [gone],
  );
  // The remaining topic is fine: excluding the deleted one is all the operator needs to do.
  expect(await env().run(sampleEndOffsets, { spec, topics: [kept] })).toEqual({ [`${kept}:0`]: 10, [`${kept}:1`]: 10 });
  expect(NON_RETRYABLE_FAILURE_TYPES).toEqual(expect.arrayContaining(['SourceTopicMissing', 'TargetTopicMissing']));
});

test('a topic deleted on the source while the quiet check watches it fails the check with SourceTopicMissing', async () => {
  const watched = `gone-quiet-${s}`;
  await createSourceTopic(watched, 1);
  const env = new MockActivityEnvironment();
  const watching = new Promise<void>((resolve) => env.on('heartbeat', (d: { phase?: string }) => void (d?.phase === 'quiet-check' && resolve())));
  const running = env.run(waitForQuietSource, { spec, topics: [kept, watched], quietSeconds: 20 });
  await watching; // the check has sampled both topics at least twice
  await deleteTopic('source', watched);
  expectMissing(await failureOf(running), 'SourceTopicMissing', 'waitForQuietSource', [watched]);
});

test('a target topic of the batch deleted on the target: syncPartitionCounts and copyRound fail TargetTopicMissing with { topics }; deleteTargetTopics skips topics already gone', async () => {
  const lost = `gone-tgt-${s}`;
  await createSourceTopic(lost, 2);
  await createTargetTopics({ spec, topics: [lost] });
  await deleteTopic('target', lost);
  const env = () => new MockActivityEnvironment();
  expectMissing(await failureOf(env().run(syncPartitionCounts, { spec, topics: [kept, lost] })), 'TargetTopicMissing', 'syncPartitionCounts', [lost]);
  const partitions = [...partitionsOf(kept), ...partitionsOf(lost)];
  expectMissing(
    await failureOf(env().run(copyRound, { spec, migration: spec.name, partitions, mode: 'follow' as const, readyMaxLagRecords: 0 })),
    'TargetTopicMissing',
    'copyRound',
    [lost],
  );

  const never = `gone-never-${s}`;
  // Deleted topics are forgotten in the offset store (at least the ownership records of lost and kept), once.
  const first = await deleteTargetTopics({ spec, migration: spec.name, topics: [lost, never, kept] });
  expect(first).toMatchObject({ deleted: [kept], missing: [lost, never] });
  expect(first.forgottenKeys).toBeGreaterThanOrEqual(2);
  expect(await deleteTargetTopics({ spec, migration: spec.name, topics: [kept] })).toEqual({ deleted: [], missing: [kept], forgottenKeys: 0 });
});
