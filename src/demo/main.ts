#!/usr/bin/env node
/**
 * `npm run demo`: a full migration on the local stack. Wipes and starts the stack, seeds realistic data on the
 * source with live producers and consumers, starts a worker (its own process) and the migration of
 * examples/demo.yaml, walks every phase as an operator would (asking, or approving everything with --yes),
 * moves the demo's own clients to the target at each cutover, and ends with the reports and the UI link.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import { loadSpecFile } from '../config/loadSpec';
import { startMigration } from '../cli/startCommand';
import { temporalSettings } from '../worker/settings';
import { loadTemporalConnection, temporalConnectOptions } from '../config/temporalConnection';
import { demoWorld, seedDemo } from './seed';
import { walkThroughMigration } from './walkthrough';
import { rollbackWindowAcls } from '../rollback/windowAcls';
import { DemoConsumer, type ClusterAccess } from './workload';

const ROOT = resolve(__dirname, '../..');
const STACK = resolve(ROOT, '.stack');

async function main(): Promise<void> {
  const opts = new Command('demo')
    .description('Runs a full migration on the local stack')
    .option('--spec <file>', 'the migration spec', resolve(ROOT, 'examples/demo.yaml'))
    .option('-y, --yes', 'approve every step without asking (also when there is no terminal)')
    .option('--keep-data', 'do not wipe the local stack first')
    .parse()
    .opts<{ spec: string; yes?: boolean; keepData?: boolean }>();
  const say = (line: string) => console.log(`\x1b[36m[demo]\x1b[0m ${line}`);
  const started = Date.now();

  if (!opts.keepData) {
    say('wiping the local stack for a clean demo (scripts/stack.sh reset): topic, group and workflow names are fixed');
    execFileSync('bash', [resolve(ROOT, 'scripts/stack.sh'), 'reset'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  execFileSync('bash', [resolve(ROOT, 'scripts/stack.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const loaded = loadSpecFile(opts.spec);
  // The demo shows a fail-back: every batch gets a rollback window; one batch is rolled back, the others finalized.
  const spec = { ...loaded, cutover: { ...loaded.cutover, rollbackWindow: loaded.cutover.rollbackWindow ?? 'until-finalize' } };
  // examples/demo.yaml names its password file relative to the secrets directory of the worker (and of this process).
  process.env.KM_SECRETS_DIR ??= resolve(STACK, 'secrets');
  const settings = temporalSettings();
  const uiBase = `http://127.0.0.1:${process.env.TEMPORAL_UI_PORT ?? 8233}/namespaces/${settings.namespace}`;
  const source: ClusterAccess = {
    brokers: spec.source.bootstrapServers,
    sasl: { username: 'app', password: readFileSync(resolve(STACK, 'secrets/app.password'), 'utf8').trim() },
  };
  const target: ClusterAccess = { brokers: spec.target.bootstrapServers };

  const world = demoWorld();
  const setup = new Kafka({ clientId: 'demo-setup', brokers: [`127.0.0.1:${process.env.SOURCE_PLAINTEXT_PORT ?? 19092}`], logLevel: logLevel.NOTHING }).admin();
  await setup.connect();
  const producers = await seedDemo(world, setup, source, say);
  if (spec.cutover.rollbackWindow) {
    // What preflight asks for a rollback window: the migrator may write the demo's topics and keep its reverse map.
    await setup.createAcls({
      acl: rollbackWindowAcls(
        `User:${spec.source.sasl?.username ?? 'migrator'}`,
        world.topics.map((t) => t.name),
      ),
    });
    say(
      'granted the migrator Write on the demo topics, All on __kafka_migrate_offsets and Alter on the cluster on the source (rollback window: reverse sync and write fence)',
    );
  }
  await setup.disconnect();
  const consumers = world.consumers.map((c) => new DemoConsumer(c.group, c.topics));
  for (const c of consumers) await c.start(source);
  for (const p of producers) await p.start(source);
  say(`${producers.length} producers and ${consumers.length} consumer groups are live on the source`);

  const worker = startWorker(settings.taskQueue);
  const connection = await Connection.connect(temporalConnectOptions(loadTemporalConnection()));
  const client = new Client({ connection, namespace: settings.namespace });
  const { workflowId } = await startMigration(client, settings.taskQueue, spec);
  const migration = client.workflow.getHandle(workflowId);
  say(`started ${workflowId}: ${uiBase}/workflows/${workflowId}`);

  const ask = opts.yes || !process.stdin.isTTY ? undefined : createInterface({ input: process.stdin, output: process.stdout });
  try {
    const { status, continuity } = await walkThroughMigration({
      client,
      migration,
      world,
      producers,
      consumers,
      target,
      by: process.env.USER || 'demo-operator',
      say,
      // Batch 1 is rolled back to the source before the other batches' windows are finalized.
      windows: spec.cutover.rollbackWindow ? { rollback: 1, source } : undefined,
      // Batch 1 stops producers, then consumers (two checks); the later ones stop both at once (the shortest pause).
      stopClientsTogether: (batch) => batch > 1,
      confirm: ask
        ? async (q) => {
            const answer = (await ask.question(`\x1b[33m[demo]\x1b[0m ${q} [Y/n] `)).trim().toLowerCase();
            if (answer === 'n' || answer === 'no') throw new Error('stopped by the operator');
          }
        : undefined,
    });
    say(`migration ${status.name}: ${status.phase}${status.error ? ` (${status.error})` : ''}`);
    for (const b of status.batches) {
      say(
        `  batch ${b.number} ${b.name}: ${b.state}, ${b.recordsCopied ?? 0} records copied, write pause ${b.writePauseMs ?? '-'} ms; report ${b.report ?? '-'}`,
      );
    }
    const broken = continuity.filter((c) => c.broken.length);
    say(`consumer continuity: ${continuity.length - broken.length}/${continuity.length} groups resumed at exactly the next record`);
    if (status.reports.migration) say(`final report: ${status.reports.migration}`);
    if (status.phase !== 'completed' || broken.length) process.exitCode = 1;
  } finally {
    ask?.close();
    for (const p of producers) await p.stop().catch(() => undefined);
    for (const c of consumers) await c.stop().catch(() => undefined);
    await connection.close();
    worker.kill('SIGTERM');
    say(`done in ${Math.round((Date.now() - started) / 1000)} s; worker log: ${resolve(STACK, 'logs/demo-worker.log')}`);
    say(`Temporal UI: ${uiBase}/workflows?query=${encodeURIComponent(`KmMigration="${spec.name}"`)}`);
  }
}

function startWorker(taskQueue: string): ChildProcess {
  mkdirSync(resolve(STACK, 'logs'), { recursive: true });
  const out = openSync(resolve(STACK, 'logs/demo-worker.log'), 'w');
  const child = spawn(process.execPath, [resolve(__dirname, '../worker/main.js')], {
    env: { ...process.env, KM_TASK_QUEUE: taskQueue },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return child;
}

main()
  // Client libraries may keep sockets half-open after disconnecting: the demo ends when its work does.
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((e) => {
    console.error(`[demo] failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
