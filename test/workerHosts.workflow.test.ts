/**
 * Workers on several machines: two worker PROCESSES on one task queue, each with its own secrets directory and
 * reports directory (as on two hosts), run a full migration whose spec names its password relatively
 * (`{ file: migrator.password }`), while a producer writes to the source. Worker A is SIGKILLed mid-copy and not
 * restarted: worker B alone finishes the copy, the cutover and the verification. The migration must complete,
 * verified, and the independent audit of both clusters find every record exactly once with exact group offsets.
 * Both workers ran activities (Temporal's history names them); the reports are in the reports directory of the
 * worker that wrote them.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../src/worker/settings';
import { runCrashScenario } from './helpers/crashScenario';
import { MIGRATOR_PASSWORD_FILE } from './helpers/stack';
import { buildWorker } from './helpers/workerProcess';

const seed = Number(process.env.KM_CRASH_SEED ?? Math.floor(Math.random() * 1e9));
const root = mkdtempSync(join(tmpdir(), 'km-hosts-'));
const host = (name: string) => {
  const secrets = join(root, name, 'secrets');
  mkdirSync(secrets, { recursive: true });
  copyFileSync(MIGRATOR_PASSWORD_FILE, join(secrets, 'migrator.password'));
  return { KM_SECRETS_DIR: secrets, KM_REPORTS_DIR: join(root, name, 'reports'), KM_WORKER_IDENTITY: `worker-${name}@host-${name}` };
};
const hostA = host('a');
const hostB = host('b');

beforeAll(() => {
  buildWorker();
}, 180000);

/** The identities of the workers that started activities of a workflow (all its runs), from Temporal's history. */
async function activityWorkers(client: Client, workflowIds: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const workflowId of workflowIds) {
    for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await client.workflow.getHandle(workflowId, w.runId).fetchHistory();
      for (const e of history.events ?? []) {
        const identity = e.activityTaskStartedEventAttributes?.identity;
        if (identity) seen.add(identity);
      }
    }
  }
  return seen;
}

test(
  'two workers with their own secrets and reports directories, one SIGKILLed mid-copy: completed, nothing lost or duplicated',
  async () => {
    let killedAt = '';
    const outcome = await runCrashScenario({
      label: 'hosts',
      seed,
      world: { topics: 2, partitions: 4, recordsPerPartition: 8000, valueBytes: 100, trimmedRecords: 200 },
      sourcePassword: { file: 'migrator.password' },
      workerEnv: hostA,
      moreWorkers: [hostB],
      copyFaults: (ctx) => [
        {
          kind: 'action',
          name: 'SIGKILL worker A (not restarted)',
          run: async () => {
            await ctx.worker.kill('SIGKILL', 'mid-copy, not restarted');
            killedAt = new Date().toISOString();
            return `worker A (pid gone) is dead for good; worker B (pid ${ctx.moreWorkers[0].pid}) carries on alone`;
          },
        },
      ],
      copyRange: [0.2, 0.6],
      afterProducersStopped: { faults: [], maxDelayMs: 0 },
      afterConsumersStopped: { faults: [], maxDelayMs: 0 },
      duringVerification: { faults: [], maxDelayMs: 0 },
      steady: { perPartition: 20, intervalMs: 250 },
      burstPerPartition: 1000,
      throttleBytesPerSecond: 1_500_000, // a copy of ~3 MB takes seconds: the kill lands mid-copy
      maxBatchBytes: 128 * 1024,
      timeoutMs: 6 * 60 * 1000,
    });
    console.log(`${outcome.log.join('\n')}\nworker logs: ${outcome.workerLog} ${outcome.moreWorkerLogs.join(' ')}`);

    expect(outcome.status.phase).toBe('completed');
    expect(killedAt).not.toBe('');
    expect(outcome.injected.map((f) => [f.fault, f.phase])).toEqual([['SIGKILL worker A (not restarted)', 'copy']]);
    expect(outcome.workerCrashes).toEqual([]);

    // The tool's own verification, and the independent audit: every record exactly once, in order; offsets exact.
    expect(outcome.verification?.ok).toBe(true);
    const audit = outcome.audit!;
    expect({ lost: audit.lost, duplicated: audit.duplicated, foreign: audit.foreign, inexact: audit.inexactPartitions }).toEqual({
      lost: 0,
      duplicated: 0,
      foreign: 0,
      inexact: [],
    });
    expect(audit.targetRecords).toBe(audit.sourceRecords);
    expect(audit.wrongGroupOffsets).toEqual([]);
    expect(audit.groupOffsets.length).toBe(2 * 2 * 4);

    // Both workers ran activities of this migration (each resolved the relative secret in its own directory).
    const settings = temporalSettings();
    const connection = await Connection.connect({ address: settings.address });
    try {
      const client = new Client({ connection, namespace: settings.namespace });
      const ids = [`migration-${outcome.status.name}`, ...outcome.status.batches.map((b) => b.workflowId)];
      expect([...(await activityWorkers(client, ids))].sort()).toEqual([hostA.KM_WORKER_IDENTITY, hostB.KM_WORKER_IDENTITY]);
    } finally {
      await connection.close();
    }

    // Reports live in the reports directory of the worker that wrote them; B (alive to the end) wrote the batch's.
    const reportsOf = (env: { KM_REPORTS_DIR: string }) => {
      const d = join(env.KM_REPORTS_DIR, outcome.status.name);
      return existsSync(d) ? readdirSync(d) : [];
    };
    const all = [...reportsOf(hostA), ...reportsOf(hostB)];
    expect(all).toEqual(expect.arrayContaining(['preflight.md', 'inventory.md', 'plan.md', 'migration.md']));
    expect(reportsOf(hostB).filter((f) => /^batch-1-.*verification\.json$/.test(f))).toHaveLength(1);
  },
  10 * 60 * 1000,
);
