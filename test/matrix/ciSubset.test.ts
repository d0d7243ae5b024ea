/**
 * The CI subset of the compatibility matrix, part of npm test (jest.config.js): the oldest source (0.9.0.1, record
 * format v0, no ApiVersions), 0.10.2.2 (every topic in record format v1, SASL/PLAIN with 0.10's ACLs), 2.8.2's
 * v1-format topics (message.format.version=0.10.2 on a v2 broker) and the 3-broker source (RF 3, min.insync.replicas 2)
 * with its partition leader SIGKILLed during the copy. Each source runs beside the default stack
 * (scripts/stack/release.sh, ports 39092+), is seeded by its own release's client and checked by the target's.
 * Time (2026-12-01, jars cached): 448 s before the speed-ups, 303-340 s after on a loaded 2-core machine; a cold run first
 * fetches each release's jars from Maven Central into .stack/release-jars (a failed fetch fails the row's test).
 * Each row logs where its time went (release up, topic creation, seeding, digests, migration, wipe).
 * The full matrix is test/matrix/matrix.matrix.ts (npm run test:matrix).
 */
import type { CellResult } from './cell';
import { matrixTable, runSourceRow, runThreeBrokerRow, TARGET_392, type MatrixRow } from './suite';
import { startTestWorker, type TestTemporal } from '../helpers/temporal';

let t: TestTemporal;
const rows: MatrixRow[] = [];
beforeAll(async () => {
  t = await startTestWorker();
});
afterAll(async () => {
  await t?.shutdown();
  console.log(matrixTable(rows, ['3.9.2', 'SIGKILLed broker'], 'source (CI subset)'));
});

const verdict = (c: CellResult | undefined) => c?.failure ?? (c ? 'exact' : 'not run');

test.each(['0.9.0.1', '0.10.2.2'])(
  'a Kafka %s source migrates to 3.9.2 exactly (each codec, a compacted topic, a group; checked by each release’s own client)',
  async (version) => {
    const row = await runSourceRow(t, version, [TARGET_392], { records: 150 });
    rows.push(row);
    expect(verdict(row.cells['3.9.2'])).toBe('exact');
  },
  25 * 60_000,
);

test(
  'a Kafka 2.8.2 source migrates its v1-format topics (message.format.version=0.10.2, plain and gzip) to 3.9.2 exactly',
  async () => {
    const row = await runSourceRow(t, '2.8.2', [TARGET_392], { only: ['v1'] });
    rows.push({ ...row, source: '2.8.2 (v1-format topics)' });
    expect(verdict(row.cells['3.9.2'])).toBe('exact');
  },
  25 * 60_000,
);

test(
  'the 3-broker source migrates exactly with the leader SIGKILLed during the copy',
  async () => {
    const row = await runThreeBrokerRow(t, TARGET_392, ['SIGKILLed broker']);
    rows.push(row);
    expect(verdict(row.cells['SIGKILLed broker'])).toBe('exact');
  },
  25 * 60_000,
);
