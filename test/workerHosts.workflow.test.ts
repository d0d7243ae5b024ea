/**
 * Workers on several machines: two worker PROCESSES on one task queue, each with its own secrets directory and
 * reports directory (as on two hosts), run a full migration whose spec names its password relatively
 * (`{ file: migrator.password }`), while a producer writes to the source. Worker A is SIGKILLed mid-copy and not
 * restarted: worker B alone finishes the copy, the cutover and the verification. The migration must complete,
 * verified, and the independent audit of both clusters find every record exactly once with exact group offsets.
 * Both workers ran activities (Temporal's history names them); the reports are in the reports directory of the
 * worker that wrote them, and in the target's report store: with both reports directories deleted (as on an operator's
 * machine, which has neither), `kafka-migrate report` still includes the offset translation and verification reports
 * (read by a worker from the store), `status` prints report paths only with their worker, and without a worker the
 * report exits 5 within --timeout.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../src/worker/settings';
import { runCrashScenario } from './helpers/crashScenario';
import { cli } from './helpers/operator';
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
    let operator: { reportJson: string; reportMd: string; status: string; noWorker: { code: number; err: string }; reportMs: number } | undefined;
    const hadReports: string[] = [];
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
      // As on the operator's machine: neither worker's reports directory is here; worker B still runs.
      afterCompleted: async (ctx) => {
        for (const h of [hostA, hostB]) {
          const d = join(h.KM_REPORTS_DIR, ctx.spec.name);
          if (existsSync(d)) hadReports.push(...readdirSync(d));
          rmSync(h.KM_REPORTS_DIR, { recursive: true, force: true });
        }
        const started = Date.now();
        const json = await cli(ctx.taskQueue, 'report', ctx.workflowId, '--format', 'json');
        const reportMs = Date.now() - started;
        const md = await cli(ctx.taskQueue, 'report', ctx.workflowId, '--format', 'md');
        const status = await cli(ctx.taskQueue, 'status', ctx.workflowId);
        const empty = `${ctx.taskQueue}-none`;
        const none = await cli(empty, '--timeout', '2', 'report', ctx.workflowId);
        if (json.code !== 0 || md.code !== 0 || status.code !== 0) throw new Error(`CLI failed: ${json.err} ${md.err} ${status.err}`);
        operator = {
          reportJson: json.out,
          reportMd: md.out,
          status: status.out,
          noWorker: { code: none.code, err: none.err },
          reportMs,
        };
      },
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

    // Reports lived in the reports directories of the workers that wrote them (deleted since).
    expect(hadReports).toEqual(expect.arrayContaining(['preflight.md', 'inventory.md', 'plan.md', 'migration.md']));
    expect(hadReports.filter((f) => /^batch-1-.*verification\.json$/.test(f))).toHaveLength(1);

    // `report` without either directory: the batch's detail reports come from the target's report store, written by
    // B (alive to the end), with their content: the same verification as the file had, each group's offsets.
    expect(operator).toBeDefined();
    console.log(`report (json) with both reports directories gone: ${operator!.reportMs} ms`);
    const report = JSON.parse(operator!.reportJson) as {
      batchReports: { number: number; verification?: { ok: boolean }; offsets?: Record<string, unknown>; verificationReport?: Record<string, unknown> }[];
    };
    const b1 = report.batchReports.find((r) => r.number === 1)!;
    expect(b1.verification).toEqual({ ok: true, mismatchCount: 0 });
    for (const detail of [b1.offsets, b1.verificationReport]) {
      expect(detail).toMatchObject({ source: 'report store', writtenBy: hostB.KM_WORKER_IDENTITY });
      expect(detail!.error).toBeUndefined();
      expect(String(detail!.markdownPath).startsWith(join(hostB.KM_REPORTS_DIR, outcome.status.name))).toBe(true);
    }
    expect(b1.verificationReport!.json).toEqual(outcome.verification);
    const offsets = b1.offsets!.json as { kind: string; groups: { group: string }[] };
    expect(offsets.kind).toBe('offset-translation');
    expect(offsets.groups.map((g) => g.group).sort()).toEqual([outcome.world.liveGroup, outcome.world.laggingGroup].sort());
    const md = operator!.reportMd;
    expect(md).toContain(`from the target's report store (written by worker ${hostB.KM_WORKER_IDENTITY} at `);
    expect(md).toContain(`# Offset translation (${outcome.status.name})`);
    expect(md).toContain('verification OK');
    expect(md).not.toContain('not readable here');

    // `status`: every report path is printed with the worker whose disk has it.
    const pathLines = operator!.status.split('\n').filter((l) => l.includes(root));
    expect(pathLines.length).toBeGreaterThan(0);
    for (const l of pathLines) expect(l).toMatch(/ on worker worker-[ab]@host-[ab]$/);

    // No worker on the task queue: exit 5 at its --timeout (2 s), saying what runs on a worker.
    expect(operator!.noWorker.code).toBe(5);
    expect(operator!.noWorker.err).toContain('no worker of task queue');
    expect(operator!.noWorker.err).toContain('answered within 2 s');
    expect(operator!.noWorker.err).toContain("reading the reports this machine lacks from the target's report store runs on a worker");
  },
  10 * 60 * 1000,
);
