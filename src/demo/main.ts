#!/usr/bin/env node
/**
 * `npm run demo`: a full migration on the local stack. Seeds realistic data on the source, starts a worker and
 * the migration of examples/demo.yaml, and walks every phase as an operator would: reads each report, approves
 * (asking, or automatically with --yes), stops the demo's own producers and consumers at cutover and restarts
 * them on the target, proves each consumer resumed at exactly the next record, and ends with the verification
 * results and the Temporal UI link.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import { loadSpecFile } from '../config/loadSpec';
import type { MigrationSpec } from '../config/spec';
import type { BatchStatus, MigrationStatus } from '../types';
import { migrationWorkflowId } from '../workflows/ids';
import { batchStatusQuery, operatorActionUpdate, statusQuery, type OperatorAction } from '../workflows/messages';
import { temporalSettings } from '../worker/settings';
import { DEMO_CONSUMERS, DEMO_PRODUCERS, LAGGING_GROUP, seedDemo, waitFor } from './seed';
import { DemoConsumer, DemoProducer, type ClusterAccess } from './workload';

const ROOT = resolve(__dirname, '../..');
const STACK = resolve(ROOT, '.stack');

interface Options {
  spec: string;
  yes?: boolean;
  keepData?: boolean;
}

async function main(): Promise<void> {
  const opts = new Command('demo')
    .description('Runs a full migration on the local stack')
    .option('--spec <file>', 'the migration spec', resolve(ROOT, 'examples/demo.yaml'))
    .option('-y, --yes', 'approve every step automatically (no prompts)')
    .option('--keep-data', 'do not wipe the local stack before the demo')
    .parse()
    .opts<Options>();
  const yes = opts.yes || !process.stdin.isTTY;
  const say = (line: string) => console.log(`\x1b[36m[demo]\x1b[0m ${line}`);
  const started = Date.now();

  // 1. A clean local stack: the demo owns it (topics, groups and migration ids are fixed names).
  if (!opts.keepData) {
    say('wiping the local stack for a clean demo (scripts/stack.sh reset)');
    execFileSync('bash', [resolve(ROOT, 'scripts/stack.sh'), 'reset'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  execFileSync('bash', [resolve(ROOT, 'scripts/stack.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const spec = loadSpecFile(opts.spec);
  const settings = temporalSettings();
  const source: ClusterAccess = { brokers: spec.source.bootstrapServers, sasl: { username: 'app', password: readFileSync(resolve(STACK, 'secrets/app.password'), 'utf8').trim() } };
  const target: ClusterAccess = { brokers: spec.target.bootstrapServers };

  // 2. Realistic data and live applications on the source.
  const setup = new Kafka({ clientId: 'demo-setup', brokers: [`127.0.0.1:${process.env.SOURCE_PLAINTEXT_PORT ?? 19092}`], logLevel: logLevel.NOTHING }).admin();
  await setup.connect();
  const producers = await seedDemo(setup, source, say);
  await setup.disconnect();
  const consumers = DEMO_CONSUMERS.map((c) => new DemoConsumer(c.group, c.topics));
  for (const c of consumers) await c.start(source);
  for (const p of producers) await p.start(source);
  say(`${producers.length} producers and ${consumers.length} consumer groups are live on the source`);

  // 3. A worker (its own process, as in production) and the migration.
  const worker = startWorker(settings.taskQueue);
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const workflowId = migrationWorkflowId(spec.name);
  const handle = await client.workflow.start('migrationWorkflow', { taskQueue: settings.taskQueue, workflowId, args: [{ spec }] });
  say(`started ${workflowId}: http://127.0.0.1:${process.env.TEMPORAL_UI_PORT ?? 8233}/namespaces/${settings.namespace}/workflows/${workflowId}`);

  const ask = yes ? undefined : createInterface({ input: process.stdin, output: process.stdout });
  const confirm = async (question: string) => {
    if (!ask) {
      say(`${question} → yes (--yes)`);
      return;
    }
    const answer = (await ask.question(`\x1b[33m[demo]\x1b[0m ${question} [Y/n] `)).trim().toLowerCase();
    if (answer === 'n' || answer === 'no') throw new Error('stopped by the operator');
  };
  const act = async (h: WorkflowHandle, action: OperatorAction) => {
    const result = await h.executeUpdate(operatorActionUpdate, { args: [action] });
    say(`  ✔ ${result.message}`);
  };
  const by = process.env.USER || 'demo-operator';

  try {
    // 4. Walk the phases.
    let lastPhase = '';
    const moved = new Set<number>();
    for (;;) {
      const status = await handle.query(statusQuery);
      if (status.phase !== lastPhase) {
        say(`phase: ${status.phase}`);
        lastPhase = status.phase;
      }
      if (['completed', 'aborted', 'failed'].includes(status.phase)) {
        await finalSummary(status, say);
        break;
      }
      const waiting = status.waitingFor?.signal;
      if (waiting === 'overridePreflight') {
        printPreflight(status, say);
        await confirm('preflight has failures; override them?');
        await act(handle, { action: 'overridePreflight', by, reason: 'demo: local stack stands in for AutoMQ' });
      } else if (waiting?.includes('approvePlan')) {
        printPreflight(status, say);
        printPlan(status, say);
        await confirm('approve this plan?');
        await act(handle, { action: 'approvePlan', by, comment: 'looks right for the demo' });
      } else if (waiting === 'approveBatch') {
        const next = status.batches.find((b) => b.state === 'pending');
        await confirm(`start batch ${next?.number} (${next?.name})?`);
        await act(handle, { action: 'approveBatch', by, batch: next?.number });
      } else if (status.phase === 'sync') {
        const running = status.batches.find((b) => b.state === 'running');
        if (running) await driveBatch(client.workflow.getHandle(running.workflowId), running.number, moved);
      }
      await sleep(500);
    }
  } finally {
    ask?.close();
    for (const p of producers) await p.stop().catch(() => undefined);
    for (const c of [...consumers]) await c.stop().catch(() => undefined);
    await connection.close();
    worker.kill('SIGTERM');
    say(`done in ${Math.round((Date.now() - started) / 1000)} s; worker log: ${resolve(STACK, 'logs/demo-worker.log')}`);
    say(`Temporal UI: http://127.0.0.1:${process.env.TEMPORAL_UI_PORT ?? 8233}/namespaces/${settings.namespace}/workflows?query=KmMigration%3D%22${spec.name}%22`);
  }

  /** One step of the batch the migration is running: cutover approvals and the demo's own clients. */
  async function driveBatch(batch: WorkflowHandle, number: number, movedBatches: Set<number>): Promise<void> {
    let b: BatchStatus;
    try {
      b = await batch.query(batchStatusQuery);
    } catch {
      return; // not started yet
    }
    const topics = new Set(b.partitions.map((p) => p.topic));
    const waiting = b.waitingFor?.signal;
    if (waiting === 'approveCutover') {
      say(`batch ${number} (${b.name}) caught up: ${b.totals.recordsCopied} records copied, lag ${b.totals.lagRecords} records`);
      await confirm(`approve the cutover of batch ${number} (${b.name})?`);
      await act(batch, { action: 'approveCutover', by, batch: number, comment: 'lag is low' });
    } else if (waiting === 'producersStopped') {
      const ours = producers.filter((p) => DEMO_PRODUCERS.find((d) => d.name === p.name)!.topics.some((t) => topics.has(t)));
      for (const p of ours) await p.stop();
      say(`  stopped producers ${ours.map((p) => p.name).join(', ') || '(none in this batch)'} on the source`);
      await act(batch, { action: 'producersStopped', by, batch: number });
    } else if (waiting === 'consumersStopped') {
      const ours = consumers.filter((c) => DEMO_CONSUMERS.find((d) => d.group === c.group)!.topics.some((t) => topics.has(t)));
      for (const c of ours) await c.stop();
      say(`  stopped consumers ${ours.map((c) => c.group).join(', ') || '(none in this batch)'} on the source`);
      await act(batch, { action: 'consumersStopped', by, batch: number });
    } else if (b.milestones.clientsMayMove && !movedBatches.has(number)) {
      movedBatches.add(number);
      say(`  batch ${number}: offsets translated in the write pause of ${b.writePauseMs} ms; moving the clients to the target`);
      const ourConsumers = consumers.filter((c) => DEMO_CONSUMERS.find((d) => d.group === c.group)!.topics.some((t) => topics.has(t)));
      const lastOnSource = new Map(ourConsumers.map((c) => [c.group, new Map(c.last)]));
      for (const c of ourConsumers) await c.start(target, false);
      const ourProducers = producers.filter((p) => DEMO_PRODUCERS.find((d) => d.name === p.name)!.topics.some((t) => topics.has(t)));
      for (const p of ourProducers) await p.start(target);
      for (const c of ourConsumers) {
        await waitFor(() => [...lastOnSource.get(c.group)!.keys()].every((k) => c.first.has(k)), 60000, `${c.group} to read on the target`);
        const checks = [...lastOnSource.get(c.group)!.entries()].map(([k, last]) => {
          const first = c.first.get(k)!;
          return Number(first.seq) === Number(last.seq) + 1 ? undefined : `${k}: last on source #${last.seq}, first on target #${first.seq}`;
        });
        const bad = checks.filter(Boolean);
        say(`  consumer group ${c.group} resumed on the target ${bad.length ? `WITH GAPS OR DUPLICATES: ${bad.join('; ')}` : 'at exactly the next record of every partition (no gap, no duplicate)'}`);
        if (bad.length) throw new Error(`consumer continuity broken for ${c.group}`);
      }
      if (topics.has(LAGGING_GROUP.topics[0])) say(`  group ${LAGGING_GROUP.group} (stopped, with lag) keeps its exact position on the target`);
    }
  }
}

function startWorker(taskQueue: string): ChildProcess {
  mkdirSync(resolve(STACK, 'logs'), { recursive: true });
  const out = openSync(resolve(STACK, 'logs/demo-worker.log'), 'w');
  const child = spawn(process.execPath, [resolve(__dirname, '../worker/main.js')], { env: { ...process.env, KM_TASK_QUEUE: taskQueue }, stdio: ['ignore', out, out] });
  closeSync(out);
  return child;
}

function printPreflight(status: MigrationStatus, say: (l: string) => void): void {
  if (!status.preflight) return;
  say(`preflight: ${status.preflight.verdict}`);
  for (const c of status.preflight.checks) say(`  ${c.verdict.padEnd(4)} ${c.title}: ${c.summary}`);
}

function printPlan(status: MigrationStatus, say: (l: string) => void): void {
  if (status.inventory) {
    const i = status.inventory;
    say(`inventory: ${i.topics} topics, ${i.partitions} partitions, ${i.groups} groups; ${i.inactiveTopics} inactive topics, ${i.unclaimedGroups} unclaimed groups`);
  }
  for (const b of status.plan?.batches ?? []) {
    say(`  batch ${b.number} ${b.name} (${b.priority}): ${b.topics.map((t) => t.name).join(', ')}; groups ${b.groups.join(', ') || '-'}`);
  }
  for (const e of status.plan?.excluded ?? []) say(`  excluded ${e.kind} ${e.name}: ${e.reason}`);
}

async function finalSummary(status: MigrationStatus, say: (l: string) => void): Promise<void> {
  say(`migration ${status.name}: ${status.phase}${status.error ? ` (${status.error})` : ''}`);
  for (const b of status.batches) {
    say(`  batch ${b.number} ${b.name}: ${b.state}, ${b.recordsCopied ?? 0} records, write pause ${b.writePauseMs ?? '-'} ms, report ${b.report ?? '-'}`);
  }
  if (status.reports.migration) say(`final report: ${status.reports.migration}`);
  if (status.phase !== 'completed') process.exitCode = 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().catch((e) => {
  console.error(`[demo] failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
