/**
 * An operator that walks a migration through every phase while its worker is being killed: every query and
 * action tolerates a worker (or Temporal server) that is down for a while and simply tries again; a refused
 * action (the workflow moved on, or replayed) is logged, not fatal. Hooks let the test stop its clients,
 * inject faults at the cutover steps and decide on a blocked migration (retry, exclude-topic) as an operator would.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { BatchStatus, MigrationStatus } from '../../src/types';
import { batchStatusQuery, operatorActionUpdate, statusQuery, waitsFor, type OperatorAction } from '../../src/workflows/messages';

export interface OperatorHooks {
  /** Resolves when the cutover may be approved (the copy-phase faults are injected by then). */
  beforeApproveCutover?: () => Promise<void>;
  /** Stops the batch's producers on the source (runs once). */
  stopProducers: () => Promise<void>;
  /** Runs once the producersStopped action is accepted (a fault during the quiet check and drain). */
  afterProducersStopped?: () => Promise<void>;
  /** Stops the batch's consumers on the source (runs once). */
  stopConsumers: () => Promise<void>;
  /** Runs once the consumersStopped action is accepted (a fault during offset translation). */
  afterConsumersStopped?: () => Promise<void>;
  /** Runs when the batch starts verifying (a fault during verification). */
  onVerifying?: () => Promise<void>;
  /**
   * Runs at every poll while the migration is blocked (status.blocked set): the operator's decision. Without it a
   * block is fatal to the scenario.
   */
  onBlocked?: (status: MigrationStatus) => Promise<void>;
}

export interface OperateOptions {
  client: Client;
  workflowId: string;
  hooks: OperatorHooks;
  say: (line: string) => void;
  timeoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function once(f: (() => Promise<void>) | undefined): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= f ? f() : Promise.resolve());
}

/** A call that may hang while the worker is dead: give up after `ms` (the next poll tries again). */
async function within<T>(ms: number, what: string, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000}s`)), ms)));
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function operateMigration(o: OperateOptions): Promise<MigrationStatus> {
  const migration = o.client.workflow.getHandle(o.workflowId);
  const hooks = {
    beforeApproveCutover: once(o.hooks.beforeApproveCutover),
    stopProducers: once(o.hooks.stopProducers),
    afterProducersStopped: once(o.hooks.afterProducersStopped),
    stopConsumers: once(o.hooks.stopConsumers),
    afterConsumersStopped: once(o.hooks.afterConsumersStopped),
    onVerifying: once(o.hooks.onVerifying),
  };
  // An accepted action takes effect when the workflow next runs (later if its worker is down): the status
  // still shows the old wait meanwhile, so the same action is not sent again for a while.
  const acceptedAt = new Map<string, number>();
  const act = async (h: WorkflowHandle, action: OperatorAction): Promise<boolean> => {
    const key = `${h.workflowId}:${action.action}`;
    if (Date.now() - (acceptedAt.get(key) ?? 0) < 30000) return false;
    try {
      const r = await within(60000, action.action, h.executeUpdate(operatorActionUpdate, { args: [action] }));
      acceptedAt.set(key, Date.now());
      o.say(`operator: ${action.action} accepted (${r.message})`);
      return true;
    } catch (e) {
      o.say(`operator: ${action.action} not accepted now: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  };
  let cutoverGate: { done: boolean; error?: unknown } | undefined;
  const deadline = Date.now() + o.timeoutMs;
  let lastState = '';
  for (;;) {
    if (Date.now() > deadline) throw new Error(`migration ${o.workflowId} did not finish within ${o.timeoutMs / 1000}s (last state ${lastState})`);
    let status: MigrationStatus;
    try {
      status = await within(30000, 'status query', migration.query(statusQuery));
    } catch {
      await sleep(1000); // worker or server down: ask again
      continue;
    }
    if (['completed', 'aborted', 'failed'].includes(status.phase)) return status;
    const waiting = status.waitingFor?.signal;
    let state = `${status.phase}${waiting ? ` waiting for ${waiting}` : ''}`;
    if (status.phase === 'blocked' && status.blocked) {
      const b = status.blocked;
      state += ` (batch ${b.batch ?? '-'} ${b.step}: ${b.type} ${[...(b.topics ?? []), ...(b.groups ?? [])].join(', ')})`;
      if (state !== lastState) o.say(`state: ${state}`);
      lastState = state;
      if (!o.hooks.onBlocked) throw new Error(`migration ${o.workflowId} blocked: ${b.step} ${b.type}: ${b.error}`);
      await o.hooks.onBlocked(status);
      await sleep(500);
      continue;
    }
    if (waiting === 'overridePreflight') {
      const failed = status.preflight?.checks.filter((c) => c.verdict === 'fail').map((c) => `${c.id}: ${c.summary}`) ?? [];
      // The scenarios' specs cover only their own topics on the local stack: a failed preflight is a fault of the
      // set-up (or of the product), never something to override and carry on with.
      throw new Error(`migration ${o.workflowId}: preflight failed: ${failed.join('; ')}`);
    } else if (waiting === 'approvePlan|rejectPlan') {
      o.say(`plan: ${status.plan?.batches.map((b) => `${b.name} [${b.topics.map((t) => t.name).join(', ')}; groups ${b.groups.join(', ')}]`).join(' | ')}`);
      await act(migration, { action: 'approvePlan', by: 'crash-test' });
    } else if (waiting === 'approveBatch') {
      const next = status.batches.find((b) => b.state === 'pending');
      await act(migration, { action: 'approveBatch', by: 'crash-test', batch: next?.number });
    } else if (status.phase === 'sync') {
      const running = status.batches.find((b) => b.state === 'running');
      if (running) state += ` / ${await driveBatch(o.client.workflow.getHandle(running.workflowId), running.number)}`;
    }
    if (state !== lastState) o.say(`state: ${state}`);
    lastState = state;
    await sleep(500);
  }

  /** One operator step of the running batch; returns its state for the log. */
  async function driveBatch(batch: WorkflowHandle, number: number): Promise<string> {
    let b: BatchStatus;
    try {
      b = await within(30000, 'batch status query', batch.query(batchStatusQuery));
    } catch {
      return 'batch not answering';
    }
    const waiting = b.waitingFor?.signal;
    if (b.step === 'verifying') await hooks.onVerifying();
    if (waiting === 'approveCutover') {
      // Not awaited here: the copy-phase faults may wait for a block this loop has to decide first.
      if (!cutoverGate) {
        cutoverGate = { done: false };
        const gate = cutoverGate;
        hooks.beforeApproveCutover().then(
          () => void (gate.done = true),
          (e: unknown) => void (gate.error = e),
        );
      }
      if (cutoverGate.error) throw cutoverGate.error;
      if (!cutoverGate.done) return `batch ${number} ${b.step} waiting for approveCutover (the copy-phase faults first)`;
      await act(batch, { action: 'approveCutover', by: 'crash-test', batch: number, comment: `lag ${b.totals.lagRecords} records` });
    } else if (waitsFor(b.waitingFor, 'producersStopped')) {
      await hooks.stopProducers();
      if (await act(batch, { action: 'producersStopped', by: 'crash-test', batch: number })) await hooks.afterProducersStopped();
    } else if (waiting === 'consumersStopped') {
      await hooks.stopConsumers();
      if (await act(batch, { action: 'consumersStopped', by: 'crash-test', batch: number })) await hooks.afterConsumersStopped();
    } else if (waiting === 'retryVerification|acceptMismatches') {
      throw new Error(`verification of batch ${number} found mismatches: ${b.notes.slice(-3).join(' | ')} (report ${b.reports.verification})`);
    }
    return `batch ${number} ${b.step}${waiting ? ` waiting for ${waiting}` : ''}, rounds ${b.rounds}, copied ${b.totals.recordsCopied}, lag ${b.totals.lagRecords}`;
  }
}
