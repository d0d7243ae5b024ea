/**
 * The compatibility matrix's rows: each source release started beside the default stack (scripts/stack/release.sh),
 * seeded by its own client, migrated to each target; and the 3-broker source with a fault during the copy.
 * Used by test/matrix/matrix.matrix.ts (npm run test:matrix, every cell) and test/matrix/ciSubset.test.ts (the CI subset, in npm test).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { STACK_DIR, TARGET_BOOTSTRAP, uniqueSuffix } from '../helpers/stack';
import type { TestTemporal } from '../helpers/temporal';
import { runCell, seedSource, timed, type CellResult, type MatrixTarget, type SeedOptions, type SeedTopic } from './cell';
import { releaseJava, releaseTool, releaseUp, releaseWipe, startBroker, stopBroker, type ReleaseCluster } from './release';

export const SOURCE_RELEASES = ['0.9.0.1', '0.10.2.2', '0.11.0.3', '1.1.1', '2.0.1', '2.8.2', '3.4.1', '4.1.1'] as const;
export const FAULTS = ['leader restart', 'SIGKILLed broker', 'partition reassignment'] as const;
export type Fault = (typeof FAULTS)[number];

/** KM_MATRIX_PORT_BASE moves the sources (default 39092; the 3-broker source +300) so that two runs can share the machine. */
const PORT_BASE = Number(process.env.KM_MATRIX_PORT_BASE ?? 39092);
export const instance = PORT_BASE === 39092 ? '' : `-${PORT_BASE}`;

export const TARGET_392: MatrixTarget = { version: '3.9.2', bootstrap: TARGET_BOOTSTRAP, libs: `${STACK_DIR}/kafka-3.9.2/libs` };

/** The Kafka 4.1.1 target (KRaft, PLAINTEXT), on ports 39292+. */
export async function target411(): Promise<MatrixTarget> {
  const c = await releaseUp('mx-target-4', '4.1.1', { plaintextOnly: true, portBase: 39292 });
  return { version: '4.1.1', bootstrap: c.plaintextBootstrap, libs: c.libs };
}

export interface MatrixRow {
  source: string;
  /** The table's first column (default `source`): the release and what its cells hold. */
  label?: string;
  /** Per target version (or the fault's name for 3-broker rows). */
  cells: Record<string, CellResult>;
}

/** One source release against the targets: a fresh cluster, one seeding, one migration per target. */
export async function runSourceRow(t: TestTemporal, version: string, targets: MatrixTarget[], seed: SeedOptions = {}): Promise<MatrixRow> {
  const name = `mx-src-${version.replace(/\./g, '')}${instance}`;
  const row: MatrixRow = { source: version, cells: {} };
  const steps: string[] = [];
  await releaseWipe(name);
  let src: ReleaseCluster;
  try {
    src = await timed(steps, 'release up', () => releaseUp(name, version, { portBase: PORT_BASE }));
  } catch (e) {
    for (const tg of targets) row.cells[tg.version] = failed(`source did not start: ${startFailure(e as Error)}`);
    return row;
  }
  try {
    const suffix = uniqueSuffix();
    let seeded;
    try {
      seeded = await seedSource(src, `mx${suffix}-`, seed, steps);
    } catch (e) {
      for (const tg of targets) row.cells[tg.version] = failed(`seeding with ${version}'s own client failed: ${(e as Error).message.split('\n')[0]}`);
      return row;
    }
    row.label = sourceLabel(version, seeded.topics);
    for (const tg of targets) {
      // 4.1.1 is outside the automq profile's 0.9-3.4: it runs with the kafka profile. SCRAM where the release has it, on the 4.1.1 target's cells.
      row.cells[tg.version] = await runCell(t, src, tg, seeded, `mx-${version.replace(/\./g, '')}-${tg.version.replace(/\./g, '')}-${suffix}`, {
        profile: version.startsWith('4.') ? 'kafka' : 'automq',
        mechanism: tg.version === '4.1.1' ? 'SCRAM-SHA-512' : 'PLAIN',
      });
      logCell(`${version} -> ${tg.version}`, row.cells[tg.version]);
    }
  } finally {
    await timed(steps, 'wipe', () => releaseWipe(name)).catch(() => undefined);
    console.log(`[matrix] ${version} steps: ${steps.join(', ')}`);
  }
  return row;
}

/** What a row's source is: metadata quorum and the record formats its logs hold. */
function sourceLabel(version: string, topics: SeedTopic[]): string {
  const [major, minor] = version.split('.').map(Number);
  const quorum = major >= 3 ? 'KRaft' : 'ZooKeeper';
  const format = major === 0 && minor < 10 ? 'v0 messages' : major === 0 && minor < 11 ? 'v1 messages' : 'v2 batches';
  const v1 = format === 'v2 batches' && topics.some((t) => t.v1) ? ' and v1-format topics' : '';
  return `${version} (${quorum}; ${format}${v1}${major >= 4 ? '; `kafka` profile' : ''})`;
}

/** The 3-broker source (3.4.1, RF 3, min.insync.replicas 2): one migration per fault, each injected during the copy. */
export async function runThreeBrokerRow(t: TestTemporal, target: MatrixTarget, faults: readonly Fault[]): Promise<MatrixRow> {
  const name = `mx-src-3b${instance}`;
  const row: MatrixRow = { source: '3.4.1 ×3 (RF 3, min ISR 2)', cells: {} };
  const steps: string[] = [];
  await releaseWipe(name);
  let src: ReleaseCluster;
  try {
    src = await timed(steps, 'release up', () => releaseUp(name, '3.4.1', { brokers: 3, portBase: PORT_BASE + 300 }));
  } catch (e) {
    for (const f of faults) row.cells[f] = failed(`source did not start: ${startFailure(e as Error)}`);
    return row;
  }
  try {
    for (const fault of faults) {
      const suffix = uniqueSuffix();
      const seeded = await seedSource(src, `mx${suffix}-`, { records: 1500, only: ['codecs', 'transactional'], codecs: ['none', 'lz4', 'zstd'] }, steps);
      const topics = seeded.topics.map((x) => x.name);
      row.cells[fault] = await runCell(t, src, target, seeded, `mx-3b-${fault.split(' ')[0].toLowerCase()}-${suffix}`, {
        throttleBytesPerSecond: 60_000,
        duringCopy: (say) => injectFault(src, fault, topics, say),
      });
      logCell(`3.4.1 x3 ${fault} -> ${target.version}`, row.cells[fault]);
      steps.length = 0;
    }
  } finally {
    await timed(steps, 'wipe', () => releaseWipe(name)).catch(() => undefined);
    console.log(`[matrix] 3.4.1 x3 steps: ${steps.join(', ')}`);
  }
  return row;
}

async function leaderIndexOf(src: ReleaseCluster, topic: string): Promise<number> {
  const admin = new Kafka({ brokers: src.plaintextBootstrap.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics[0].partitions.find((p) => p.partitionId === 0)!.leader - 1; // KRaft node.id = index + 1
  } finally {
    await admin.disconnect();
  }
}

async function injectFault(src: ReleaseCluster, fault: Fault, topics: string[], say: (l: string) => void): Promise<void> {
  if (fault === 'leader restart' || fault === 'SIGKILLed broker') {
    const i = await leaderIndexOf(src, topics[0]);
    const signal = fault === 'leader restart' ? 'TERM' : 'KILL';
    say(`${signal} to broker ${i} (leader of ${topics[0]}:0)`);
    await stopBroker(src.name, i, signal);
    await new Promise((r) => setTimeout(r, 5000)); // the copy goes on against the two others
    await startBroker(src.name, i);
    say(`broker ${i} back`);
    return;
  }
  // Reassignment: every partition's replica list rotated (kafka-reassign-partitions), then the preferred leaders elected.
  const admin = new Kafka({ brokers: src.plaintextBootstrap.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const md = await admin.fetchTopicMetadata({ topics }).finally(() => admin.disconnect());
  const partitions = md.topics.flatMap((tp) =>
    tp.partitions.map((p) => ({ topic: tp.name, partition: p.partitionId, replicas: [...p.replicas.slice(1), p.replicas[0]] })),
  );
  const file = join(tmpdir(), `km-matrix-reassign-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ version: 1, partitions }));
  say(`reassigning ${partitions.length} partitions (replicas rotated)`);
  await releaseTool('reassign', src.name, '--reassignment-json-file', file, '--execute');
  const deadline = Date.now() + 120_000;
  for (;;) {
    const out = await releaseTool('reassign', src.name, '--reassignment-json-file', file, '--verify');
    if (!/in progress/i.test(out)) break;
    if (Date.now() > deadline) throw new Error(`reassignment still in progress after 120 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await releaseJava(
    src.name,
    'kafka.admin.LeaderElectionCommand',
    '--bootstrap-server',
    src.plaintextBootstrap.split(',')[0],
    '--election-type',
    'preferred',
    '--all-topic-partitions',
  );
  say('reassignment complete, preferred leaders elected');
}

/** release.sh's own ERROR line (a failed Maven fetch of the jars, a broker that exited) when it gave one. */
function startFailure(e: Error): string {
  const lines = e.message.split('\n');
  return lines.find((l) => l.includes('[release] ERROR')) ?? lines.slice(0, 3).join(' ');
}

function failed(failure: string): CellResult {
  return { ok: false, failure, records: 0, partitions: 0, groups: 0, auth: '', seconds: 0, log: [] };
}

function logCell(what: string, c: CellResult): void {
  console.log(`[matrix] ${what}: ${c.ok ? 'exact' : `FAIL ${c.failure}`} (${c.seconds}s)${c.preflight ? ` preflight ${c.preflight}` : ''}`);
  console.log(c.log.join('\n')); // timestamped: where the cell's time went
}

/** The table (Markdown): one row per source, one column per target or fault. */
export function matrixTable(rows: MatrixRow[], columns: string[], heading: string): string {
  const cell = (c?: CellResult) =>
    !c
      ? '—'
      : c.ok
        ? `exact: ${c.records} records, ${c.partitions} partitions, ${c.groups} groups; ${c.auth}; ${c.seconds} s`
        : `FAIL: ${c.failure?.replace(/\|/g, '/').replace(/\n/g, ' ')}`;
  const lines = [`| ${heading} | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.label ?? r.source} | ${columns.map((c) => cell(r.cells[c])).join(' | ')} |`);
  return lines.join('\n');
}

/** Replaces the README's text between the matrix markers, formatted as the lint's Prettier check wants it. */
export function writeReadmeMatrix(markdown: string): void {
  const path = resolve(__dirname, '../../README.md');
  const text = readFileSync(path, 'utf8');
  const begin = '<!-- matrix:begin -->';
  const end = '<!-- matrix:end -->';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${begin} ... ${end} markers`);
  const updated = `${text.slice(0, a + begin.length)}\n\n${markdown}\n\n${text.slice(b)}`;
  writeFileSync(path, updated);
  // Prettier in a child process: its API loads plugins by dynamic import, which jest's VM refuses.
  execFileSync(process.execPath, [require.resolve('prettier/bin/prettier.cjs'), '--write', '--log-level', 'warn', path], { stdio: 'inherit' });
}
