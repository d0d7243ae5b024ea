/**
 * The cutover write pause of one batch (50 topics / 200 partitions / 20 groups by default), measured on the
 * real batch workflow with the real activities: the batch copies until ready, the "operator" approves the
 * cutover and reports producers and consumers stopped as soon as the workflow asks, and the pause is the
 * workflow's own writePauseMs (producersStopped -> clients may move), with its steps broken down. Then the same
 * batch is rolled back (rollbackPause.ts): the rollback write pause.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import type { BatchResult, BatchStatus, PlanBatch } from '../types';
import { commitGroupOffsets } from '../cutover/commitGroupOffsets';
import { mapLimit } from '../inventory/concurrency';
import { batchWorkflowId } from '../workflows/ids';
import { batchStatusQuery, operatorActionUpdate, waitsFor, type OperatorAction } from '../workflows/messages';
import { measureRollbackPause, type RollbackResult } from './rollbackPause';
import { benchSpec } from './settings';
import { startBenchWorker } from './temporalWorker';
import { createTopics, deleteGroups, deleteTopics, withAdminOf } from './topics';

export interface CutoverShape {
  topics: number;
  partitionsPerTopic: number;
  groups: number;
  recordsPerPartition: number;
  quietPeriodSeconds: number;
  roundSeconds: number;
}

export const CUTOVER_SHAPE: CutoverShape = { topics: 50, partitionsPerTopic: 4, groups: 20, recordsPerPartition: 50, quietPeriodSeconds: 1, roundSeconds: 5 };

export interface CutoverResult {
  shape: CutoverShape;
  /** The pause producers see: from the accepted producersStopped action until clients may move. */
  writePauseMs: number;
  /** The batch workflow's own writePauseMs (its producersStopped milestone is the accepted action's time). */
  workflowWritePauseMs: number;
  /** clientsMayMove -> verified: the batch's verification of every partition, group and config, s. */
  verificationSeconds: number | null;
  /** The largest batch status query answer seen while polling (JSON bytes). */
  largestStatusQueryBytes: number;
  /** ms between the cutover milestones, in order (producersStopped -> ... -> clientsMayMove). */
  steps: Record<string, number>;
  /** Batch start to ready, s. */
  copyToReadySeconds: number;
  outcome: string;
  /** The same batch rolled back afterwards (rollbackPause.ts). */
  rollback?: RollbackResult;
}

const SYSTEM = 'bench';

export async function measureCutoverPause(
  sourceKafka: Kafka,
  targetKafka: Kafka,
  id: string,
  say: (l: string) => void,
  shape = CUTOVER_SHAPE,
): Promise<CutoverResult> {
  const topics = Array.from({ length: shape.topics }, (_, i) => `kmbench-${id}-cut-t${String(i).padStart(2, '0')}`);
  const groups = Array.from({ length: shape.groups }, (_, i) => `kmbench-${id}-cut-g${String(i).padStart(2, '0')}`);
  const reportsDir = mkdtempSync(join(tmpdir(), 'km-bench-reports-'));
  try {
    await withAdminOf(sourceKafka, (admin) => seed(sourceKafka, admin, topics, groups, shape));
    const spec = benchSpec({
      name: `kmbench-${id}-cut`,
      thresholds: { quietPeriodSeconds: shape.quietPeriodSeconds },
      copy: { roundSeconds: shape.roundSeconds },
      reports: { dir: reportsDir },
    } as never);
    const batch: PlanBatch = {
      number: 1,
      name: SYSTEM,
      systems: [SYSTEM],
      priority: 'non-core',
      topics: topics.map((name) => ({
        name,
        partitions: shape.partitionsPerTopic,
        bytes: shape.partitionsPerTopic * shape.recordsPerPartition * 100,
        records: shape.partitionsPerTopic * shape.recordsPerPartition,
      })),
      groups,
    };
    say(`  starting an in-process worker (bundles the workflows) on task queue km-bench-${id}`);
    const t = await startBenchWorker(`km-bench-${id}`);
    try {
      const handle = await t.client.workflow.start('batchWorkflow', {
        taskQueue: t.settings.taskQueue,
        workflowId: batchWorkflowId(spec.name, 1, SYSTEM),
        // No migration workflow above it: the milestone signal to the missing parent is tolerated.
        args: [{ spec, batch, parentWorkflowId: `kmbench-${id}-no-parent` }],
      });
      const act = (action: OperatorAction['action']) => handle.executeUpdate(operatorActionUpdate, { args: [{ action, by: 'km-bench', batch: 1 }] });
      const startedAt = Date.now();
      let readyAt: number | undefined;
      const sent = new Set<string>();
      let largestStatusQueryBytes = 0;
      const deadline = Date.now() + 10 * 60_000;
      for (;;) {
        if (Date.now() > deadline) throw new Error('the cutover batch did not finish within 10 minutes');
        const s: BatchStatus | undefined = await handle.query(batchStatusQuery).catch(() => undefined);
        if (s) largestStatusQueryBytes = Math.max(largestStatusQueryBytes, JSON.stringify(s).length);
        // The two-step path (producersStopped, then consumersStopped), as this figure was always measured.
        const waiting = s && waitsFor(s.waitingFor, 'producersStopped') ? 'producersStopped' : s?.waitingFor?.signal;
        // Each action once: the workflow keeps waitingFor until it has taken the action.
        if (waiting === 'approveCutover' || waiting === 'producersStopped' || waiting === 'consumersStopped') {
          if (!sent.has(waiting)) {
            if (waiting === 'approveCutover') readyAt = Date.now();
            sent.add(waiting);
            await act(waiting);
          }
        } else if (waiting) throw new Error(`the cutover batch waits for ${waiting}: ${s?.waitingFor?.reason}; notes: ${s?.notes.slice(-3).join(' | ')}`);
        // After the pause the batch verifies every partition and group: it must end completed, not just fast.
        if (s?.step === 'completed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const result = (await handle.result()) as BatchResult;
      const m = { ...result.status.milestones };
      // The decision is recorded with the check's verdict (after the quiet check): the pause starts at the earlier.
      const signalled = result.status.decisions.find((d) => d.kind === 'producersStopped' && d.accepted);
      if (signalled && (!m.producersStopped || Date.parse(signalled.at) < Date.parse(m.producersStopped))) m.producersStoppedAccepted = signalled.at;
      const order = ['producersStoppedAccepted', 'producersStopped', 'sourceQuiet', 'drained', 'consumersStopped', 'clientsMayMove'].filter((k) => m[k]);
      const steps: Record<string, number> = {};
      for (let i = 1; i < order.length; i++) steps[`${order[i - 1]}->${order[i]}`] = Date.parse(m[order[i]]) - Date.parse(m[order[i - 1]]);
      if (result.status.writePauseMs === undefined) throw new Error('the batch finished without a writePauseMs');
      say(`  cutover write pause ${result.status.writePauseMs} ms; now the rollback of the same batch`);
      const rollback = await measureRollbackPause(t, spec, batch, handle.workflowId, sourceKafka, targetKafka, say);
      return {
        rollback,
        shape,
        writePauseMs: Date.parse(m.clientsMayMove) - Date.parse(m[order[0]]),
        workflowWritePauseMs: result.status.writePauseMs,
        verificationSeconds: m.verified && m.clientsMayMove ? (Date.parse(m.verified) - Date.parse(m.clientsMayMove)) / 1000 : null,
        largestStatusQueryBytes,
        steps,
        copyToReadySeconds: Math.round(((readyAt ?? startedAt) - startedAt) / 100) / 10,
        outcome: result.outcome,
      };
    } finally {
      await t.shutdown();
    }
  } finally {
    for (const [side, kafka] of [
      ['source', sourceKafka],
      ['target', targetKafka],
    ] as const) {
      await withAdminOf(kafka, async (admin) => {
        await deleteGroups(admin, groups).catch((e) => say(`  could not delete the ${side} groups: ${(e as Error).message}`));
        await deleteTopics(admin, topics).catch((e) => say(`  could not delete the ${side} topics: ${(e as Error).message}`));
      });
    }
    rmSync(reportsDir, { recursive: true, force: true });
  }
}

/** Topics with records in every partition, and groups with offsets committed half-way (no members: Empty). */
async function seed(kafka: Kafka, admin: Admin, topics: string[], groups: string[], shape: CutoverShape): Promise<void> {
  await createTopics(admin, topics, shape.partitionsPerTopic);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await mapLimit(topics, 8, (topic) =>
      producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: shape.partitionsPerTopic * shape.recordsPerPartition }, (_, i) => ({
          partition: i % shape.partitionsPerTopic,
          key: `k${i}`,
          value: `record ${i} of ${topic} `.padEnd(100, '.'),
        })),
      }),
    );
  } finally {
    await producer.disconnect();
  }
  // Group g reads every topic t with t % groups == g: each topic has a group, each group 2-3 topics.
  await mapLimit(groups, 4, (group, g) =>
    commitGroupOffsets(
      kafka,
      group,
      topics
        .filter((_, t) => t % groups.length === g)
        .flatMap((topic) =>
          Array.from({ length: shape.partitionsPerTopic }, (_, partition) => ({ topic, partition, offset: Math.floor(shape.recordsPerPartition / 2) })),
        ),
    ),
  );
}
