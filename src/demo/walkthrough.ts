/**
 * An operator walking a migration through every phase, as the demo does it and as the end-to-end test does
 * it: reads each report, approves each step (through the checked `operatorAction` update), stops the world's
 * producers and consumers of a batch at cutover and restarts them on the target, and checks that every
 * consumer resumed on the target at exactly the next record of each partition.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { BatchStatus, MigrationStatus } from '../types';
import { batchStatusQuery, operatorActionUpdate, statusQuery, waitsFor, type OperatorAction } from '../workflows/messages';
import { windowActionUpdate, windowStatusQuery } from '../workflows/windowMessages';
import { waitFor, type DemoWorld } from './seed';
import type { ClusterAccess, DemoConsumer, DemoProducer } from './workload';

export interface WalkthroughOptions {
  client: Client;
  migration: WorkflowHandle;
  world: DemoWorld;
  producers: DemoProducer[];
  consumers: DemoConsumer[];
  target: ClusterAccess;
  by: string;
  say: (line: string) => void;
  /** Asks the operator; resolves to continue, throws to stop. Absent: approve everything. */
  confirm?: (question: string) => Promise<void>;
  /**
   * Rollback windows (cutover.rollbackWindow), once every batch is done: roll back batch `rollback` (its clients
   * stopped on the target, moved back to the source, continuity checked) and finalize the others. Absent: the
   * windows are left to the caller.
   */
  windows?: { rollback?: number; source: ClusterAccess };
  /** Batches whose producers and consumers are stopped together (clientsStopped); the others stop producers first. */
  stopClientsTogether?: (batch: number) => boolean;
  timeoutMs?: number;
}

export interface ContinuityCheck {
  group: string;
  partitions: number;
  broken: string[];
}

export interface WalkthroughResult {
  status: MigrationStatus;
  continuity: ContinuityCheck[];
}

export async function walkThroughMigration(o: WalkthroughOptions): Promise<WalkthroughResult> {
  const confirm = o.confirm ?? (async (q: string) => o.say(`${q} → yes`));
  const act = async (h: WorkflowHandle, action: OperatorAction) => {
    const result = await h.executeUpdate(operatorActionUpdate, { args: [action] });
    o.say(`  ✔ ${result.message}`);
  };
  const moved = new Set<number>();
  const continuity: ContinuityCheck[] = [];
  const closedHere = new Set<number>();
  const deadline = Date.now() + (o.timeoutMs ?? 15 * 60 * 1000);
  let lastPhase = '';
  for (;;) {
    if (Date.now() > deadline) throw new Error('the migration did not finish in time');
    const status = await o.migration.query(statusQuery);
    if (status.phase !== lastPhase) {
      o.say(`phase: ${status.phase}`);
      lastPhase = status.phase;
    }
    if (['completed', 'aborted', 'failed'].includes(status.phase)) return { status, continuity };
    const waiting = status.waitingFor?.signal;
    if (waiting === 'finalize|rollback' && o.windows) {
      await closeWindows(status, o.windows);
    } else if (waiting === 'overridePreflight') {
      printPreflight(status, o.say);
      await confirm('preflight has failures; override them?');
      await act(o.migration, { action: 'overridePreflight', by: o.by, reason: 'the local stack stands in for AutoMQ' });
    } else if (waiting === 'approvePlan|rejectPlan') {
      printPreflight(status, o.say);
      printPlan(status, o.say);
      await confirm('approve this plan?');
      await act(o.migration, { action: 'approvePlan', by: o.by, comment: 'reviewed the preflight and plan reports' });
    } else if (waiting === 'approveBatch') {
      const next = status.batches.find((b) => b.state === 'pending');
      await confirm(`start batch ${next?.number} (${next?.name})?`);
      await act(o.migration, { action: 'approveBatch', by: o.by, batch: next?.number });
    } else if (status.phase === 'sync') {
      const running = status.batches.find((b) => b.state === 'running');
      if (running) await driveBatch(o.client.workflow.getHandle(running.workflowId), running.number);
    }
    await new Promise((r) => setTimeout(r, 300));
  }

  /** Rolls one batch back (its clients back on the source, continuity checked) and finalizes every other window. */
  async function closeWindows(status: MigrationStatus, w: NonNullable<WalkthroughOptions['windows']>): Promise<void> {
    // The migration learns that a window closed by its signal, a moment after the window took the action: a window
    // closed here is not asked again while the migration's status still lists it as open.
    for (const win of (status.windows ?? []).filter((x) => x.state === 'open' && !closedHere.has(x.batch))) {
      closedHere.add(win.batch);
      const handle = o.client.workflow.getHandle(win.workflowId);
      if (win.batch !== w.rollback) {
        await confirm(`finalize batch ${win.batch} (it stays on the target)?`);
        const r = await handle.executeUpdate(windowActionUpdate, { args: [{ action: 'finalize', by: o.by }] });
        o.say(`  ✔ ${r.message}`);
        continue;
      }
      const b = await o.client.workflow.getHandle(status.batches.find((x) => x.number === win.batch)!.workflowId).query(batchStatusQuery);
      const topics = new Set(b.partitions.map((p) => p.topic));
      const ourProducers = o.producers.filter((p) => o.world.producers.find((d) => d.name === p.name)!.topics.some((t) => topics.has(t)));
      const ourConsumers = o.consumers.filter((c) => o.world.consumers.find((d) => d.group === c.group)!.topics.some((t) => topics.has(t)));
      // The window fences the source as its first step: show it once that step has run.
      let ws = await handle.query(windowStatusQuery);
      for (let i = 0; i < 120 && !ws.fence && !ws.blocked && ws.state === 'open'; i++) {
        await new Promise((res) => setTimeout(res, 500));
        ws = await handle.query(windowStatusQuery);
      }
      o.say(
        `batch ${win.batch} (${b.name}) window: ${ws.recordsCopiedBack} records written on the target copied back to the source, reverse lag ${ws.reverseLagRecords}; ` +
          `source write fence ${ws.fence ? `${ws.fence.state} (WRITE denied to ${ws.fence.deniedPrincipals.join(', ') || 'nobody else'})` : 'none'}`,
      );
      await confirm(`roll batch ${win.batch} (${b.name}) back to the source?`);
      for (const p of ourProducers) await p.stop();
      for (const c of ourConsumers) await c.stop();
      o.say(
        `  stopped producers ${ourProducers.map((p) => p.name).join(', ') || '-'} and consumers ${ourConsumers.map((c) => c.group).join(', ') || '-'} on the target`,
      );
      const lastOnTarget = new Map(ourConsumers.map((c) => [c.group, new Map(c.last)]));
      const r = await handle.executeUpdate(windowActionUpdate, { args: [{ action: 'rollback', by: o.by, reason: 'the demo shows a fail-back' }] });
      o.say(`  ✔ ${r.message}`);
      let done = await handle.query(windowStatusQuery);
      while (done.state !== 'rolled-back') {
        if (done.blocked) throw new Error(`the rollback of batch ${win.batch} is blocked: ${done.blocked.error}`);
        await new Promise((res) => setTimeout(res, 500));
        done = await handle.query(windowStatusQuery);
      }
      o.say(
        `  batch ${win.batch} rolled back: write pause ${done.rollback?.writePauseMs} ms, verification ${done.rollback?.verification?.ok ? 'passed' : 'FAILED'}, source fence ${done.fence?.state ?? 'none'}; moving its clients back to the source`,
      );
      for (const c of ourConsumers) await c.start(w.source, false);
      for (const p of ourProducers) await p.start(w.source);
      for (const c of ourConsumers) {
        const check = await checkContinuity(c, lastOnTarget.get(c.group)!);
        continuity.push(check);
        o.say(
          `  consumer group ${c.group} resumed on the source ${check.broken.length ? `WITH GAPS OR DUPLICATES: ${check.broken.join('; ')}` : `at exactly the next record of each of its ${check.partitions} partitions`}`,
        );
      }
    }
  }

  /** One step of the running batch: cutover approvals and the world's own clients. */
  async function driveBatch(batch: WorkflowHandle, number: number): Promise<void> {
    let b: BatchStatus;
    try {
      b = await batch.query(batchStatusQuery);
    } catch {
      return; // its first task has not run yet
    }
    const topics = new Set(b.partitions.map((p) => p.topic));
    const ourProducers = o.producers.filter((p) => o.world.producers.find((d) => d.name === p.name)!.topics.some((t) => topics.has(t)));
    const ourConsumers = o.consumers.filter((c) => o.world.consumers.find((d) => d.group === c.group)!.topics.some((t) => topics.has(t)));
    const waiting = b.waitingFor?.signal;
    if (waiting === 'approveCutover') {
      o.say(`batch ${number} (${b.name}) caught up: ${b.totals.recordsCopied} records copied, lag ${b.totals.lagRecords} records`);
      await confirm(`approve the cutover of batch ${number} (${b.name})?`);
      await act(batch, { action: 'approveCutover', by: o.by, batch: number, comment: 'lag is under the threshold' });
    } else if (o.stopClientsTogether?.(number) && waitsFor(b.waitingFor, 'clientsStopped')) {
      for (const p of ourProducers) await p.stop();
      for (const c of ourConsumers) await c.stop();
      o.say(
        `  stopped producers ${ourProducers.map((p) => p.name).join(', ') || '(none in this batch)'} and consumers ${ourConsumers.map((c) => c.group).join(', ') || '(none in this batch)'} on the source together`,
      );
      await act(batch, { action: 'clientsStopped', by: o.by, batch: number });
    } else if (waitsFor(b.waitingFor, 'producersStopped')) {
      for (const p of ourProducers) await p.stop();
      o.say(`  stopped producers ${ourProducers.map((p) => p.name).join(', ') || '(none in this batch)'} on the source`);
      await act(batch, { action: 'producersStopped', by: o.by, batch: number });
    } else if (waiting === 'consumersStopped') {
      for (const c of ourConsumers) await c.stop();
      o.say(`  stopped consumers ${ourConsumers.map((c) => c.group).join(', ') || '(none in this batch)'} on the source`);
      await act(batch, { action: 'consumersStopped', by: o.by, batch: number });
    } else if (waiting === 'retryVerification|acceptMismatches') {
      throw new Error(`verification of batch ${number} found mismatches: see ${b.reports.verification}`);
    } else if (b.milestones.clientsMayMove && !moved.has(number)) {
      moved.add(number);
      // writePauseMs is set a moment after the milestone (once the migration has been told): the milestones give it too.
      const pause = b.writePauseMs ?? Date.parse(b.milestones.clientsMayMove) - Date.parse(b.milestones.producersStopped);
      o.say(`  batch ${number}: source quiet, tail drained, offsets translated: write pause ${pause} ms; moving the clients to the target`);
      const lastOnSource = new Map(ourConsumers.map((c) => [c.group, new Map(c.last)]));
      for (const c of ourConsumers) await c.start(o.target, false);
      for (const p of ourProducers) await p.start(o.target);
      for (const c of ourConsumers) continuity.push(await checkContinuity(c, lastOnSource.get(c.group)!));
      for (const check of continuity.filter((x) => ourConsumers.some((c) => c.group === x.group))) {
        o.say(
          `  consumer group ${check.group} resumed on the target ${
            check.broken.length
              ? `WITH GAPS OR DUPLICATES: ${check.broken.join('; ')}`
              : `at exactly the next record of each of its ${check.partitions} partitions (no gap, no duplicate)`
          }`,
        );
      }
    }
  }
}

/**
 * The first record a consumer reads on the target must carry the sequence number right after the last one it
 * processed on the source, partition by partition (records written without a sequence are not judged).
 */
async function checkContinuity(c: DemoConsumer, lastOnSource: Map<string, { offset: string; seq: string | undefined }>): Promise<ContinuityCheck> {
  const judged = [...lastOnSource.entries()].filter(([, last]) => last.seq !== undefined);
  await waitFor(() => judged.every(([k]) => c.first.has(k)), 60000, `${c.group} to read every partition on the target`);
  const broken = judged
    .map(([k, last]) => {
      const first = c.first.get(k)!;
      return Number(first.seq) === Number(last.seq) + 1 ? undefined : `${k}: last on the source #${last.seq}, first on the target #${first.seq}`;
    })
    .filter((x): x is string => x !== undefined);
  return { group: c.group, partitions: judged.length, broken };
}

export function printPreflight(status: MigrationStatus, say: (l: string) => void): void {
  if (!status.preflight) return;
  say(`preflight: ${status.preflight.verdict}`);
  for (const c of status.preflight.checks) say(`  ${c.verdict.padEnd(4)} ${c.title}: ${c.summary}`);
}

export function printPlan(status: MigrationStatus, say: (l: string) => void): void {
  if (status.inventory) {
    const i = status.inventory;
    say(
      `inventory: ${i.topics} topics, ${i.partitions} partitions, ${i.groups} groups; ${i.inactiveTopics} inactive topics, ${i.unclaimedGroups} unclaimed groups`,
    );
  }
  for (const b of status.plan?.batches ?? []) {
    say(`  batch ${b.number} ${b.name} (${b.priority}): ${b.topics.map((t) => t.name).join(', ')}; groups ${b.groups.join(', ') || '-'}`);
  }
  for (const e of status.plan?.excluded ?? []) say(`  excluded ${e.kind} ${e.name}: ${e.reason}`);
}
