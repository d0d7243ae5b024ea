/**
 * One cell of the compatibility matrix: a source of one Kafka release, seeded by that release's own Java client,
 * migrated to one target through the real workflow (real worker, real Temporal server), then checked by the
 * target's own Java client against the source's (counts, digests of key/value/headers/timestamp per partition in
 * log order, and each group's committed position) — nothing of kafka-migrate's code takes part in the check.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { parseSpec, type MigrationSpec } from '../../src/config/spec';
import type { DemoWorld } from '../../src/demo/seed';
import { walkThroughMigration } from '../../src/demo/walkthrough';
import type { BatchStatus, MigrationStatus, VerificationReport } from '../../src/types';
import { batchFileStem, migrationWorkflowId } from '../../src/workflows/ids';
import { migrationWorkflow } from '../../src/workflows/migration';
import { batchStatusQuery, statusQuery } from '../../src/workflows/messages';
import type { TestTemporal } from '../helpers/temporal';
import { digestTopics, matrixClient, releaseTool, type DigestRequest, type PartitionDigest, type ReleaseCluster } from './release';

export interface MatrixTarget {
  /** The release, as the table shows it. */
  version: string;
  bootstrap: string;
  /** Jars of the target's release, for its own consumer in the check. */
  libs: string;
}

export interface SeedTopic {
  name: string;
  codec: string;
  partitions: number;
  records: number;
  compacted?: boolean;
  transactional?: boolean;
  /** message.format.version=0.10.2: the log holds v1 message sets (2.8.2). */
  v1?: boolean;
  headers: boolean;
}

export interface SeededGroup {
  group: string;
  topics: string[];
}

export interface Seeded {
  prefix: string;
  /** How long each step of the row took so far ("release up 41s", "create topics 12s", ...): written into the cell log. */
  steps: string[];
  topics: SeedTopic[];
  /** Commit-only groups (no members) and the topics each has offsets on; a topic has at most one group. */
  groups: SeededGroup[];
  /** The source's own digests, taken before any migration. */
  source: PartitionDigest[];
  requests: DigestRequest[];
}

const versionAtLeast = (v: string, min: string): boolean => {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

/** The codecs a release's producer has: zstd from 2.1. */
export function codecsOf(version: string): string[] {
  return ['none', 'gzip', 'snappy', 'lz4', ...(versionAtLeast(version, '2.1') ? ['zstd'] : [])];
}

export interface SeedOptions {
  /** Records per keyed topic (default 300). */
  records?: number;
  partitions?: number;
  /** Only these kinds (default all the release has). */
  only?: ('codecs' | 'compacted' | 'transactional' | 'v1')[];
  codecs?: string[];
}

/** Runs one step of a row and appends its duration to steps (the matrix's time budget is spent in these). */
export async function timed<T>(steps: string[], what: string, f: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    steps.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
}

/** Creates and fills the cell's topics on the source with the source release's own producer; commits a group. */
export async function seedSource(src: ReleaseCluster, prefix: string, o: SeedOptions = {}, steps: string[] = []): Promise<Seeded> {
  const v = src.version;
  const headers = versionAtLeast(v, '0.11');
  const records = o.records ?? 300;
  const partitions = o.partitions ?? 3;
  const want = (k: 'codecs' | 'compacted' | 'transactional' | 'v1') => !o.only || o.only.includes(k);
  const topics: SeedTopic[] = [];
  if (want('codecs')) for (const codec of o.codecs ?? codecsOf(v)) topics.push({ name: `${prefix}keyed-${codec}`, codec, partitions, records, headers });
  if (want('compacted')) topics.push({ name: `${prefix}compacted`, codec: 'gzip', partitions: 2, records: 200, compacted: true, headers });
  if (want('transactional') && src.transactions) topics.push({ name: `${prefix}txn`, codec: 'lz4', partitions: 2, records: 200, transactional: true, headers });
  if (want('v1') && versionAtLeast(v, '0.10.0') && !versionAtLeast(v, '4.0')) {
    // Record format v1 on a broker that writes v2 by default: the broker down-converts (no headers in v1).
    for (const codec of ['none', 'gzip']) topics.push({ name: `${prefix}v1-${codec}`, codec, partitions: 2, records: 200, v1: true, headers: false });
  }
  const rf = String(Math.min(src.brokers, 3));
  const create = (t: SeedTopic) => {
    const configs = [
      ...(t.compacted ? ['cleanup.policy=compact'] : []),
      ...(t.v1 ? ['message.format.version=0.10.2'] : []),
      ...(src.brokers >= 3 ? ['min.insync.replicas=2'] : []),
    ].flatMap((c) => ['--config', c]);
    return releaseTool('topics', src.name, '--create', '--topic', t.name, '--partitions', String(t.partitions), '--replication-factor', rf, ...configs);
  };
  // The release's own kafka-topics, one JVM per topic (0.9/0.10 take one topic per call): a few at a time, since
  // each JVM start is mostly single-threaded.
  await timed(steps, `create ${topics.length} topics`, async () => {
    const queue = [...topics];
    await Promise.all(
      [1, 2, 3].map(async () => {
        for (let t = queue.shift(); t; t = queue.shift()) await create(t);
      }),
    );
  });
  await timed(steps, 'wait for leaders', () => waitForLeaders(src, topics));
  const produceArgs = topics.flatMap((t) => [
    t.name,
    t.codec,
    String(t.records),
    String(t.compacted ? 25 : 50),
    t.headers ? '1' : '0',
    t.transactional ? '1' : '0',
    String(t.compacted ? 10 : 0),
  ]);
  await timed(steps, 'produce (own client)', () => matrixClient(src.libs, 'produce', src.plaintextBootstrap, ...produceArgs));
  const groups = groupsFor(prefix, topics);
  const commitArgs = groups.flatMap((g) => [g.group, g.topics.join(',')]);
  await timed(steps, `commit ${groups.length} groups`, () => matrixClient(src.libs, 'commit', src.plaintextBootstrap, ...commitArgs));
  const requests: DigestRequest[] = topics.map((t) => ({
    topic: t.name,
    readCommitted: !!t.transactional,
    timestamps: versionAtLeast(v, '0.10.0'),
    group: groups.find((g) => g.topics.includes(t.name))?.group,
  }));
  const source = await timed(steps, 'source digest', () => digestTopics(src.libs, src.plaintextBootstrap, requests));
  return { prefix, steps, topics, groups, source, requests };
}

/**
 * Two groups, so that every release's cutover translates several groups at once: one on the first topic, the other
 * on the compacted and the transactional topics where the cell has them (offsets there fall between compaction gaps
 * and transaction markers), else on the second topic.
 */
function groupsFor(prefix: string, topics: SeedTopic[]): SeededGroup[] {
  const second = topics.filter((t) => t.compacted || t.transactional).map((t) => t.name);
  if (!second.length && topics.length > 1) second.push(topics[1].name);
  return [{ group: `${prefix}group`, topics: [topics[0].name] }, ...(second.length ? [{ group: `${prefix}group-2`, topics: second }] : [])];
}

/** Topic creation returns before every partition has a leader on old releases. */
async function waitForLeaders(src: ReleaseCluster, topics: SeedTopic[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const out = await releaseTool('topics', src.name, '--describe');
    const ours = out.split('\n').filter((l) => topics.some((t) => l.includes(`Topic: ${t.name}\t`) || l.includes(`Topic: ${t.name} `)) && /Partition:/.test(l));
    const expected = topics.reduce((n, t) => n + t.partitions, 0);
    if (ours.length >= expected && ours.every((l) => !/Leader: (-1|none)/.test(l))) return;
    if (Date.now() > deadline) throw new Error(`partitions of ${src.name} without a leader after 60 s:\n${ours.join('\n')}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface CellOptions {
  /** SASL mechanism of the migrator on the source, when the release has SASL. */
  mechanism?: 'PLAIN' | 'SCRAM-SHA-512';
  profile?: 'automq' | 'kafka';
  throttleBytesPerSecond?: number;
  /** Runs once, while the copy of the first batch is under way (records copied, not yet caught up). */
  duringCopy?: (say: (l: string) => void) => Promise<void>;
  timeoutMs?: number;
}

export interface CellResult {
  ok: boolean;
  /** Why not, in one line. */
  failure?: string;
  preflight?: string;
  records: number;
  partitions: number;
  /** Groups whose offsets were translated and checked. */
  groups: number;
  /** How the migrator reached the source: PLAINTEXT, SASL/PLAIN or SASL/SCRAM-SHA-512. */
  auth: string;
  seconds: number;
  log: string[];
}

/** Migrates the seeded topics from src to target through the real workflow and checks the target independently. */
export async function runCell(
  t: TestTemporal,
  src: ReleaseCluster,
  target: MatrixTarget,
  seeded: Seeded,
  name: string,
  o: CellOptions = {},
): Promise<CellResult> {
  const started = Date.now();
  const log: string[] = [];
  const say = (l: string) => void log.push(`${new Date().toISOString().slice(11, 19)} ${l}`);
  const records = seeded.source.reduce((n, p) => n + p.count, 0);
  const partitions = seeded.source.length;
  const sasl = src.saslBootstrap !== '';
  const mechanism = o.mechanism && src.mechanisms.includes(o.mechanism) ? o.mechanism : 'PLAIN';
  const result = (failure?: string, preflight?: string): CellResult => ({
    ok: !failure,
    failure,
    preflight,
    records,
    partitions,
    groups: seeded.groups.length,
    auth: sasl ? `SASL/${mechanism}` : 'PLAINTEXT',
    seconds: Math.round((Date.now() - started) / 1000),
    log,
  });
  const reportsDir = mkdtempSync(join(tmpdir(), 'km-matrix-'));
  const esc = seeded.prefix.replace(/[-.]/g, '\\$&');
  const spec: MigrationSpec = parseSpec({
    name,
    source: sasl
      ? {
          bootstrapServers: src.saslBootstrap.split(','),
          securityProtocol: 'SASL_PLAINTEXT',
          sasl: { mechanism, username: 'migrator', password: { file: `${src.secrets}/migrator.password` } },
        }
      : { bootstrapServers: src.plaintextBootstrap.split(','), securityProtocol: 'PLAINTEXT' },
    target: { bootstrapServers: [target.bootstrap], securityProtocol: 'PLAINTEXT', profile: o.profile ?? 'automq' },
    scope: { topics: [`${esc}.*`], includeInactive: [`${esc}.*`] },
    thresholds: { capacitySampleSeconds: 2, quietPeriodSeconds: 2, readyMaxLagRecords: 2000, readyMaxLagSeconds: 30 },
    copy: { roundSeconds: 3, heartbeatTimeoutSeconds: 15, throttleBytesPerSecond: o.throttleBytesPerSecond ?? 0 },
    reports: { dir: reportsDir },
  });
  say(`${name}: Kafka ${src.version} (${src.brokers} broker(s), ${sasl ? `SASL/${mechanism}` : 'PLAINTEXT'}) -> ${target.version}, ${records} records`);
  say(`steps so far: ${seeded.steps.join(', ')}`);
  const migrationStarted = Date.now();
  let migration: WorkflowHandle;
  try {
    migration = await t.client.workflow.start(migrationWorkflow, {
      taskQueue: t.settings.taskQueue,
      workflowId: migrationWorkflowId(spec.name),
      args: [{ spec }],
    });
  } catch (e) {
    return result(`start: ${(e as Error).message}`);
  }
  let preflight: string | undefined;
  let blocked: string | undefined;
  let faultError: string | undefined;
  let faultDone = !o.duringCopy;
  let stop = false;
  // Watches for a blocked fault (ends the cell with its reason) and runs the fault injection during the copy.
  const watcher = (async () => {
    while (!stop) {
      try {
        const s: MigrationStatus = await migration.query(statusQuery);
        if (s.preflight && !preflight) {
          const bad = s.preflight.checks.filter((c) => c.verdict !== 'pass').map((c) => `${c.verdict} ${c.title}`);
          preflight = `${s.preflight.verdict}${bad.length ? ` (${bad.join('; ')})` : ''}`;
        }
        if (s.blocked) {
          blocked = `blocked in ${s.blocked.step}: ${s.blocked.type}: ${s.blocked.error}`.slice(0, 400);
          await migration.terminate(`matrix cell: ${blocked}`).catch(() => undefined);
          return;
        }
        if (s.phase === 'failed') {
          blocked = `failed: ${s.error ?? ''}`.slice(0, 400);
          return;
        }
        if (!faultDone) {
          const running = s.batches.find((b) => b.state === 'running');
          if (running) {
            const b: BatchStatus = await t.client.workflow.getHandle(running.workflowId).query(batchStatusQuery);
            if (b.totals.recordsCopied > 0 && b.totals.lagRecords > 0) {
              faultDone = true;
              say(`fault injection at ${b.totals.recordsCopied} records copied, lag ${b.totals.lagRecords}`);
              await o.duringCopy!(say).catch((e: Error) => void (faultError = e.message));
              say('fault injection done');
            }
          }
        }
      } catch {
        /* first task not run yet, or terminated */
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  let status: MigrationStatus | undefined;
  try {
    const walk = walkThroughMigration({
      client: t.client,
      migration,
      world: { producers: [], consumers: [] } as unknown as DemoWorld,
      producers: [],
      consumers: [],
      target: { brokers: [target.bootstrap] },
      by: 'matrix',
      say,
      timeoutMs: o.timeoutMs ?? 6 * 60_000,
    });
    // A blocked or failed migration ends the cell at once (the walkthrough would wait for it until its deadline).
    const ended = watcher.then(() => (blocked ? ('blocked' as const) : new Promise<never>(() => undefined)));
    const first = await Promise.race([walk, ended]);
    if (first === 'blocked') return result(blocked, preflight);
    ({ status } = first);
  } catch (e) {
    stop = true;
    await watcher;
    await migration.terminate('matrix cell gave up').catch(() => undefined);
    return result(blocked ?? `walkthrough: ${(e as Error).message.split('\n')[0]}`, preflight);
  }
  stop = true;
  await watcher;
  if (blocked) return result(blocked, preflight);
  if (!faultDone) return result('the fault was never injected (the copy ended before it was seen running)', preflight);
  if (status.phase !== 'completed') return result(`phase ${status.phase}: ${status.error ?? ''}`, preflight);
  for (const b of status.batches) {
    if (b.state !== 'completed') return result(`batch ${b.name} ${b.state}`, preflight);
    const report = JSON.parse(
      readFileSync(join(reportsDir, spec.name, `${batchFileStem(b.number, b.name, 'verification')}.json`), 'utf8'),
    ) as VerificationReport;
    if (!report.ok) return result(`verification report of batch ${b.name}: ${report.mismatches.length} mismatches`, preflight);
  }
  say(`step: migration (workflow) ${((Date.now() - migrationStarted) / 1000).toFixed(1)}s`);
  // The independent check, by the target release's own consumer.
  const digestStarted = Date.now();
  const targetDigests = await digestTopics(target.libs, target.bootstrap, seeded.requests).catch((e: Error) => e);
  say(`step: target digest (target's client) ${((Date.now() - digestStarted) / 1000).toFixed(1)}s`);
  if (targetDigests instanceof Error) return result(`target check: ${targetDigests.message.split('\n')[0]}`, preflight);
  const problems = compareDigests(seeded, targetDigests);
  // A fault that could not be injected as planned fails the cell, whatever the check found (both are reported).
  if (faultError)
    return result(`fault injection: ${faultError.split('\n')[0]}; check: ${problems.length ? `${problems.length} mismatches` : 'exact'}`, preflight);
  if (problems.length) {
    for (const p of problems) say(`MISMATCH ${p}`);
    return result(`${problems.length} mismatches: ${problems.slice(0, 3).join('; ')}`, preflight);
  }
  say(`exact: ${records} records in ${partitions} partitions, groups ${seeded.groups.map((g) => g.group).join(', ')} at the same records`);
  return result(undefined, preflight);
}

export function compareDigests(seeded: Seeded, target: PartitionDigest[]): string[] {
  const problems: string[] = [];
  const key = (d: PartitionDigest) => `${d.topic}:${d.partition}`;
  const byKey = new Map(target.map((d) => [key(d), d]));
  const groupOf = (topic: string) => seeded.requests.find((r) => r.topic === topic)?.group;
  for (const s of seeded.source) {
    const d = byKey.get(key(s));
    if (!d) problems.push(`${key(s)} missing on the target`);
    else {
      if (d.count !== s.count) problems.push(`${key(s)}: ${s.count} records on the source, ${d.count} on the target`);
      else if (d.sha !== s.sha) problems.push(`${key(s)}: contents differ (digest)`);
      if (s.committed >= 0 && (d.committed < 0 || d.prefix !== s.prefix))
        problems.push(
          `${key(s)}: group ${groupOf(s.topic)} before ${s.prefix} records on the source, ${d.committed < 0 ? 'no offset' : `before ${d.prefix}`} on the target`,
        );
    }
  }
  if (target.length !== seeded.source.length) problems.push(`${seeded.source.length} partitions on the source, ${target.length} on the target`);
  return problems;
}
