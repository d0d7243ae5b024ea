/**
 * The scope faults of issue 10 in the resilience suite (`npm run test:chaos`, not part of `npm test`): a
 * migration of a live workload (a producer writing to every partition, a live consumer group, a lagging group)
 * while, at random points of the copy (seeded, printed, replayable with KM_CRASH_SEED), in random order and mixed
 * with worker SIGKILLs:
 *   - a source topic of the running batch is deleted (its team stopped writing to it first): the batch blocks
 *     with SourceTopicMissing naming it; the harness, as the operator, runs `exclude-topic --delete-target` and
 *     the migration goes on without it;
 *   - partitions are added to a source topic (the producer writes to them at once): they must be followed,
 *     copied and verified;
 *   - a new topic is created in scope (the producer writes to it): with `scope.newTopics: propose` an extra batch
 *     `new-topics-1` is proposed, which the harness approves and walks like any batch;
 *   - at the cutover, a consumer of the batch's group joins on the TARGET before consumersStopped (too early):
 *     the offset step blocks with GroupActiveOnTarget; the harness stops that consumer and runs `retry`;
 *   plus worker SIGKILLs after producersStopped (quiet check / drain) and during verification.
 * The migration must complete, every batch's verification pass, and the independent audit of both clusters find
 * 0 records lost, 0 duplicated, 0 foreign and exact group offsets over the topics that were migrated (the
 * excluded topic is not audited: it must be gone from the target).
 *
 * A second, short scenario ends the migration: the copy is cancelled from the Temporal client API
 * (`handle.cancel()`, like "Request Cancellation" in the UI) at a random point of the copy, with worker SIGKILLs
 * before it and one 0-1.5 s after it (during the rollback; KM_CHAOS_NO_ROLLBACK_KILL=1 leaves it out). It must
 * end as an abort recorded "cancelled from Temporal" (workflow COMPLETED, outcome aborted, the batch rolled back:
 * with cutover.deleteTargetTopicsOnAbort none of the topics it created is left on the target; the source
 * untouched; no further batch).
 *
 * Only the worker process this test starts is killed: the shared brokers and Temporal server are never restarted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTopicsReady } from '../../src/kafka/topicsReady';
import { runCrashScenario, type ScenarioContext, type ScenarioOutcome } from '../helpers/crashScenario';
import { seededRandom } from '../helpers/crashWorld';
import { shuffle, type Fault } from '../helpers/faults';
import { STACK_DIR } from '../helpers/stack';
import { buildWorker } from '../helpers/workerProcess';

const seed = Number(process.env.KM_CRASH_SEED ?? Math.floor(Math.random() * 1e9));
const kill: Fault = { kind: 'kill-worker' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  buildWorker();
}, 180000);

function printSummary(title: string, o: ScenarioOutcome, extra: string[] = []): string {
  const a = o.audit;
  const lines = [
    '',
    `=================== ${title} ===================`,
    `seed ${seed} (KM_CRASH_SEED=${seed}); migration ${o.status.name}: ${o.status.phase}${o.status.error ? ` (${o.status.error})` : ''}; workflow ${o.workflowStatus ?? '?'}`,
    `time: set-up ${o.seconds.setup.toFixed(0)}s, migration ${o.seconds.migration.toFixed(0)}s, audit ${o.seconds.audit.toFixed(0)}s`,
    `injected ${o.injected.length} faults (${o.workerKills} worker SIGKILLs):`,
    ...o.injected.map(
      (f, i) =>
        `  ${String(i + 1).padStart(2)}. ${f.fault.padEnd(34)} ${f.phase}${f.progress === undefined ? '' : ` at ${(f.progress * 100).toFixed(1)}% copied`} (${(f.tookMs / 1000).toFixed(1)}s)${f.observed && !f.fault.startsWith('SIGKILL') ? `: ${f.observed}` : ''}`,
    ),
    `blocks decided by the operator: ${o.blocks.length ? '' : 'none'}`,
    ...o.blocks.map(
      (b) =>
        `  batch ${b.batch ?? '-'} ${b.step}: ${b.type} [${[...(b.topics ?? []), ...(b.groups ?? [])].join(', ')}] -> ${b.decision.replace(/ --by .*$/, '')}`,
    ),
    `worker exits nobody injected (restarted by the harness): ${o.workerCrashes.length ? o.workerCrashes.join('; ') : 'none'}`,
    `batches: ${o.status.batches.map((b) => `${b.number} ${b.name} ${b.state}${b.excludedTopics?.length ? ` (excluded ${b.excludedTopics.join(', ')})` : ''}${b.writePauseMs !== undefined ? `, write pause ${b.writePauseMs} ms` : ''}`).join(' | ')}`,
    `new topics: ${(o.status.newTopics ?? []).map((t) => `${t.name} ${t.disposition}${t.batch ? ` → batch ${t.batch}` : ''}`).join(', ') || 'none'}`,
    `verification: ${o.verifications.length ? o.verifications.map((v) => `batch ${v.batch.number} ${v.ok ? 'ok' : `FAILED: ${v.mismatches.slice(0, 5).join('; ')}`} (${v.partitions.length} partitions, ${v.groups.length} groups)`).join(' | ') : 'not run'}`,
    a
      ? `audit of ${o.auditedTopics.length} migrated topics: source ${a.sourceRecords} records, target ${a.targetRecords}; lost ${a.lost}, duplicated ${a.duplicated}, foreign ${a.foreign}, inexact partitions ${a.inexactPartitions.length}; group offsets ${a.groupOffsets.length - a.wrongGroupOffsets.length}/${a.groupOffsets.length} exact`
      : 'audit: not run',
    ...extra,
    `topics at the end: source [${o.topicsAtEnd.source.join(', ')}], target [${o.topicsAtEnd.target.join(', ')}]`,
    `worker log: ${o.workerLog}`,
    '='.repeat(40 + title.length),
  ];
  return lines.join('\n');
}

function saveSummary(kind: string, o: ScenarioOutcome): void {
  const dir = join(STACK_DIR, 'logs/crash-tests');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${kind}-summary-${o.status.name}.json`),
    JSON.stringify(
      {
        seed,
        injected: o.injected,
        blocks: o.blocks,
        seconds: o.seconds,
        phase: o.status.phase,
        batches: o.status.batches.map((b) => ({ name: b.name, state: b.state, excluded: b.excludedTopics })),
        verifications: o.verifications.map((v) => v.ok),
        audit: o.audit && { ...o.audit, partitions: undefined },
      },
      null,
      2,
    ),
  );
}

/** Waits until the source's metadata shows `count` partitions of `topic`. */
async function waitForPartitions(ctx: ScenarioContext, topic: string, count: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const meta = await ctx.sourceAdmin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    if ((meta?.topics[0]?.partitions.length ?? 0) >= count) return;
    await sleep(200);
  }
  throw new Error(`${topic} did not show ${count} partitions on the source`);
}

test(
  'chaos: a source topic deleted, partitions added, a new topic, an early target consumer, with worker SIGKILLs: the migration completes exactly',
  async () => {
    const random = seededRandom(seed ^ 0x5c09e);
    let victim = '';
    let grown = '';
    let late = '';
    const grownTo = 5;
    const outcome = await runCrashScenario(
      {
        label: 'scope',
        seed,
        // t0 (head trimmed), t1 (gains partitions), t2 and t3 (deleted mid-copy: not read by the live group).
        world: { topics: 4, partitions: 3, recordsPerPartition: 15000, valueBytes: 100, trimmedRecords: 500 },
        liveTopics: [0, 1, 2],
        progressTopics: [0, 1, 2],
        copyFaults: (ctx) => {
          [, grown, , victim] = ctx.world.topicNames;
          late = `${ctx.world.prefix}t9`;
          const deleteTopic: Fault = {
            kind: 'action',
            name: `delete source topic ${victim.slice(ctx.world.prefix.length)}`,
            run: async () => {
              await ctx.producer.dropTopic(victim);
              ctx.deletedTopics.add(victim);
              await ctx.sourceAdmin.deleteTopics({ topics: [victim], timeout: 30000 });
              return `${victim} deleted on the source (its producer stopped first)`;
            },
          };
          const addPartitions: Fault = {
            kind: 'action',
            name: `add partitions to ${grown.slice(ctx.world.prefix.length)} (${ctx.world.partitions}→${grownTo})`,
            run: async () => {
              await ctx.sourceAdmin.createPartitions({ topicPartitions: [{ topic: grown, count: grownTo }] });
              await waitForPartitions(ctx, grown, grownTo);
              await ctx.producer.setPartitions(grown, grownTo);
              return `${grown} has ${grownTo} partitions; the producer writes to all of them`;
            },
          };
          const newTopic: Fault = {
            kind: 'action',
            name: `create in-scope topic ${late.slice(ctx.world.prefix.length)}`,
            run: async () => {
              ctx.world.createdTopics.push(late);
              await createTopicsReady(ctx.sourceAdmin, [{ topic: late, numPartitions: 2, replicationFactor: 1 }], 60000);
              await ctx.producer.addTopic(late, 2);
              return `${late} created (2 partitions); the producer writes to it`;
            },
          };
          return shuffle<Fault>([kill, kill, kill, deleteTopic, addPartitions, newTopic], random);
        },
        copyRange: [0.04, 0.85],
        afterProducersStopped: { faults: [kill], maxDelayMs: 3000 },
        // The offset step blocks on the early target consumer; a kill there would cost the activity's start-to-close timeout.
        afterConsumersStopped: { faults: [], maxDelayMs: 0 },
        duringVerification: { faults: [kill], maxDelayMs: 1000 },
        earlyTargetConsumer: true,
        spec: { scope: { newTopics: 'propose', newTopicsCheckSeconds: 2 } },
        steady: { perPartition: 10, intervalMs: 250 },
        burstPerPartition: 2000,
        throttleBytesPerSecond: 1024 * 1024,
        maxBatchBytes: 128 * 1024,
        timeoutMs: 20 * 60 * 1000,
      },
      true,
    );
    const v1 = outcome.verifications[0];
    const grownVerified =
      v1?.partitions
        .filter((p) => p.topic === grown)
        .map((p) => p.partition)
        .sort() ?? [];
    console.log(printSummary('chaos summary: scope faults', outcome, [`partitions of ${grown} verified: ${grownVerified.join(', ') || 'none'}`]));
    saveSummary('scope-faults', outcome);

    expect(outcome.status.phase).toBe('completed');
    expect(outcome.workflowStatus).toBe('COMPLETED');
    expect(outcome.workerKills).toBeGreaterThanOrEqual(4);
    // Both blocks the scenario caused were seen and decided (any other block fails the scenario at once).
    expect(outcome.blocks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          batch: 1,
          type: 'SourceTopicMissing',
          topics: [victim],
          decision: expect.stringMatching(/^kafka-migrate exclude-topic .* --topic \S+ .*--delete-target/),
        }),
        expect.objectContaining({
          batch: 1,
          step: 'translating-offsets',
          type: 'GroupActiveOnTarget',
          groups: [outcome.world.liveGroup],
          decision: expect.stringMatching(/^kafka-migrate retry /),
        }),
      ]),
    );
    // The deleted topic: excluded from batch 1, not on the target, not audited. The new one: batch new-topics-1.
    expect(outcome.status.plan!.batches.map((b) => b.name)).toEqual([outcome.status.batches[0].name, 'new-topics-1']);
    expect(outcome.status.batches.map((b) => b.state)).toEqual(['completed', 'completed']);
    expect(outcome.status.batches[0].excludedTopics).toEqual([victim]);
    expect(outcome.status.newTopics).toEqual([expect.objectContaining({ name: late, disposition: 'proposed', batch: 2 })]);
    expect(outcome.topicsAtEnd.target).not.toContain(victim);
    expect(outcome.auditedTopics).toEqual([...outcome.world.topicNames.slice(0, 3), late].sort());
    // The added partitions were followed: copied (audit) and verified.
    expect(grownVerified).toEqual(Array.from({ length: grownTo }, (_, i) => i));
    expect(outcome.verifications.map((v) => v.mismatches)).toEqual([[], []]);
    expect(outcome.verifications.map((v) => v.ok)).toEqual([true, true]);
    expect(outcome.verifications.some((v) => JSON.stringify(v.batch.topics).includes(victim) && v.partitions.some((p) => p.topic === victim))).toBe(false);
    const audit = outcome.audit!;
    expect({ lost: audit.lost, duplicated: audit.duplicated, foreign: audit.foreign, inexact: audit.inexactPartitions }).toEqual({
      lost: 0,
      duplicated: 0,
      foreign: 0,
      inexact: [],
    });
    expect(audit.targetRecords).toBe(audit.sourceRecords);
    expect(audit.partitions.filter((p) => p.partition.startsWith(`${grown}:`)).map((p) => p.targetRecords > 0)).toEqual(Array(grownTo).fill(true));
    expect(audit.partitions.filter((p) => p.partition.startsWith(`${late}:`)).map((p) => p.targetRecords > 0)).toEqual([true, true]);
    // The lagging group's offsets on the three migrated initial topics at least, every one exact.
    expect(audit.groupOffsets.filter((g) => g.group === outcome.world.laggingGroup).length).toBeGreaterThanOrEqual(3 * 3);
    expect(audit.wrongGroupOffsets).toEqual([]);
  },
  30 * 60 * 1000,
);

test(
  'chaos: the copy cancelled from the Temporal client API, with worker SIGKILLs: an abort recorded "cancelled from Temporal", rolled back',
  async () => {
    const random = seededRandom(seed ^ 0xca9ce1);
    // The worker is SIGKILLed 0-1.5 s after the cancellation: during the abort's hand-over or the rollback itself.
    const killInRollback = process.env.KM_CHAOS_NO_ROLLBACK_KILL !== '1';
    const killDelayMs = Math.floor(random() * 1500);
    let initialSourceRecords = 0;
    const outcome = await runCrashScenario(
      {
        label: 'cancel',
        seed,
        world: { topics: 2, partitions: 2, recordsPerPartition: 20000, valueBytes: 100, trimmedRecords: 500 },
        copyFaults: (ctx) => {
          initialSourceRecords = 2 * 2 * 20000 - 2 * 500;
          const cancel: Fault = {
            kind: 'action',
            name: 'cancel from the Temporal client',
            run: async () => {
              await ctx.client.workflow.getHandle(ctx.workflowId).cancel();
              if (!killInRollback) return 'handle.cancel() requested';
              await sleep(killDelayMs);
              await ctx.faults.inject(kill, `rollback, ${killDelayMs} ms after the cancellation`);
              return `handle.cancel() requested; worker SIGKILLed ${killDelayMs} ms later`;
            },
          };
          // The kills in random order before the cancellation, which ends the copy.
          return [...shuffle<Fault>([kill, kill], random), cancel];
        },
        copyRange: [0.05, 0.8],
        afterProducersStopped: { faults: [], maxDelayMs: 0 },
        afterConsumersStopped: { faults: [], maxDelayMs: 0 },
        duringVerification: { faults: [], maxDelayMs: 0 },
        spec: { cutover: { deleteTargetTopicsOnAbort: true } },
        steady: { perPartition: 10, intervalMs: 250 },
        burstPerPartition: 0,
        throttleBytesPerSecond: 1024 * 1024,
        maxBatchBytes: 128 * 1024,
        timeoutMs: 12 * 60 * 1000,
      },
      true,
    );
    const abort = outcome.status.decisions.find((d) => d.kind === 'abort');
    const batchAbort = outcome.status.batches[0]?.decisions?.find((d) => d.kind === 'abort');
    console.log(
      printSummary('chaos summary: cancelled from Temporal', outcome, [
        `kill during the rollback: ${killInRollback ? `yes, ${killDelayMs} ms after the cancellation` : 'no'}`,
        `migration decision: ${abort ? `${abort.kind} by ${abort.by} (${abort.reason}) accepted=${abort.accepted} in ${abort.phase}` : 'none'}; batch decision: ${batchAbort ? `${batchAbort.kind} by ${batchAbort.by} accepted=${batchAbort.accepted} in ${batchAbort.phase}` : 'none'}`,
        `batch workflows: ${Object.entries(outcome.batchWorkflowStatuses)
          .map(([id, st]) => `${id} ${st}`)
          .join(', ')}`,
        `source records at the end: ${outcome.sourceRecordsAtEnd} (${initialSourceRecords} before the migration)`,
      ]),
    );
    saveSummary('cancel', outcome);

    expect(outcome.status.phase).toBe('aborted');
    expect(outcome.workflowStatus).toBe('COMPLETED');
    expect(outcome.injected.map((f) => f.fault)).toContain('cancel from the Temporal client');
    expect(outcome.workerKills).toBeGreaterThanOrEqual(killInRollback ? 3 : 2);
    expect(outcome.blocks).toEqual([]);
    // Recorded as an abort by "temporal", accepted (clients had not moved), and forwarded to the running batch.
    expect(abort).toMatchObject({ kind: 'abort', by: 'temporal', reason: 'cancelled from Temporal', accepted: true });
    expect(batchAbort).toMatchObject({ kind: 'abort', by: 'temporal', accepted: true });
    // Rolled back: the one batch aborted, its workflow closed, none started after it.
    expect(outcome.status.batches.map((b) => b.state)).toEqual(['aborted']);
    expect(Object.values(outcome.batchWorkflowStatuses)).toEqual(['COMPLETED']);
    // deleteTargetTopicsOnAbort: no topic this migration created is left on the target; the source is untouched.
    expect(outcome.topicsAtEnd.target).toEqual([]);
    expect(outcome.topicsAtEnd.source).toEqual([...outcome.world.topicNames].sort());
    expect(outcome.sourceRecordsAtEnd).toBeGreaterThanOrEqual(initialSourceRecords);
  },
  20 * 60 * 1000,
);
