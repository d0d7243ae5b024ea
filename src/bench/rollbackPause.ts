/**
 * The rollback write pause of the cutover batch (cutoverPause.ts), on the real rollback window workflow with the real
 * activities: once the batch completed, its window opens (fence, reverse sync), clients "write" on the target, the
 * reverse sync catches up, and the "operator" rolls the batch back. The pause is the window's own writePauseMs
 * (rollback accepted -> quiet check, reverse drain, offsets translated back and committed, verification), with the
 * time the reverse sync took to copy the records back.
 */
import type { Kafka } from 'kafkajs';
import type { MigrationSpec } from '../config/spec';
import type { PlanBatch } from '../types';
import type { WindowStatus } from '../types/rollback';
import { rollbackWindowAcls } from '../rollback/windowAcls';
import { windowActionUpdate, windowStatusQuery, windowWorkflowId } from '../workflows/windowMessages';
import type { BenchTemporal } from './temporalWorker';
import { withAdminOf } from './topics';

export interface RollbackResult {
  /** The window's writePauseMs: from the accepted rollback to clients may move back (verified). */
  writePauseMs: number;
  recordsWrittenOnTarget: number;
  /** From the first record written on the target until the reverse sync had copied every one back, s. */
  reverseCatchUpSeconds: number;
  verificationOk: boolean;
  fence: string;
}

const RECORDS_PER_PARTITION = 20;

export async function measureRollbackPause(
  t: BenchTemporal,
  spec: MigrationSpec,
  batch: PlanBatch,
  batchWorkflowId: string,
  sourceKafka: Kafka,
  targetKafka: Kafka,
  say: (l: string) => void,
): Promise<RollbackResult> {
  const topics = batch.topics.map((x) => x.name);
  const acls = rollbackWindowAcls('User:migrator', topics);
  await withAdminOf(sourceKafka, (a) => a.createAcls({ acl: acls }));
  try {
    const windowSpec: MigrationSpec = { ...spec, cutover: { ...spec.cutover, rollbackWindow: 'until-finalize' } };
    const handle = await t.client.workflow.start('rollbackWindowWorkflow', {
      taskQueue: t.settings.taskQueue,
      workflowId: windowWorkflowId(batchWorkflowId),
      // No migration above it: the windowClosed signal to the missing migration is tolerated.
      args: [{ spec: windowSpec, migrationWorkflowId: `${batchWorkflowId}-no-parent`, batch: { number: 1, name: batch.name, topics, groups: batch.groups } }],
    });
    const status = () => handle.query(windowStatusQuery) as Promise<WindowStatus>;
    const waitFor = async (what: string, pred: (s: WindowStatus) => boolean, ms = 5 * 60_000): Promise<WindowStatus> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const s = await status().catch(() => undefined);
        if (s && pred(s)) return s;
        if (s?.blocked) throw new Error(`the rollback window is blocked in ${s.blocked.step}: ${s.blocked.error}`);
        if (Date.now() > deadline) throw new Error(`the rollback window did not reach "${what}" within ${ms / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor('reverse sync running', (s) => s.rounds > 0);
    const partitions = batch.topics.reduce((n, x) => n + x.partitions, 0);
    const written = partitions * RECORDS_PER_PARTITION;
    say(`  rollback window open (fence ${(await status()).fence?.state ?? 'none'}); writing ${written} records on the target`);
    const startedAt = Date.now();
    const producer = targetKafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: batch.topics.map((x) => ({
          topic: x.name,
          messages: Array.from({ length: x.partitions * RECORDS_PER_PARTITION }, (_, i) => ({
            partition: i % x.partitions,
            value: `written on the target ${i}`,
          })),
        })),
      });
    } finally {
      await producer.disconnect();
    }
    const caughtUp = await waitFor('reverse sync caught up', (s) => s.recordsCopiedBack >= written && s.reverseLagRecords === 0);
    const reverseCatchUpSeconds = (Date.now() - startedAt) / 1000;
    await handle.executeUpdate(windowActionUpdate, { args: [{ action: 'rollback', by: 'km-bench', reason: 'benchmark of the rollback write pause' }] });
    const done = await waitFor('rolled-back', (s) => s.state === 'rolled-back');
    if (done.rollback?.writePauseMs === undefined) throw new Error('the window rolled back without a writePauseMs');
    return {
      writePauseMs: done.rollback.writePauseMs,
      recordsWrittenOnTarget: written,
      reverseCatchUpSeconds: Math.round(reverseCatchUpSeconds * 10) / 10,
      verificationOk: done.rollback.verification?.ok === true && caughtUp.recordsCopiedBack === written,
      fence: done.fence?.state ?? 'none',
    };
  } finally {
    await withAdminOf(sourceKafka, (a) => a.deleteAcls({ filters: acls.filter((x) => topics.includes(x.resourceName)) })).catch(() => undefined);
  }
}
