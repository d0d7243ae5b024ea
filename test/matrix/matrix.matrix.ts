/**
 * npm run test:matrix (scripts/matrix.sh): every source release of the matrix to each target (3.9.2 of the default
 * stack, 4.1.1 started beside it), through the real workflow, checked by each release's own client; then the 3-broker
 * source with a leader restart, a SIGKILLed broker and a partition reassignment during the copy. Prints the table and
 * writes it to the README between the matrix markers (only when every row ran: KM_MATRIX_SOURCES=0.11.0.3,2.8.2 runs some;
 * KM_MATRIX_WRITE_README=1 writes such a partial table too, naming the rows it did not run).
 */
import { startTestWorker, type TestTemporal } from '../helpers/temporal';
import type { MatrixTarget } from './cell';
import { releaseDown } from './release';
import {
  FAULTS,
  instance,
  matrixTable,
  runSourceRow,
  runThreeBrokerRow,
  SOURCE_RELEASES,
  target411,
  TARGET_392,
  writeReadmeMatrix,
  type MatrixRow,
} from './suite';

const only = process.env.KM_MATRIX_SOURCES?.split(',').filter(Boolean);
const sources = SOURCE_RELEASES.filter((v) => !only || only.includes(v));
const withFaults = !only || only.includes('3b');
/** KM_MATRIX_FAULTS='partition reassignment' runs some faults of the 3-broker row only. */
const faultsOnly = process.env.KM_MATRIX_FAULTS?.split(',').filter(Boolean);
const faults = FAULTS.filter((f) => !faultsOnly || faultsOnly.includes(f));
if (faultsOnly && faults.length !== faultsOnly.length) throw new Error(`KM_MATRIX_FAULTS: expected some of ${FAULTS.join(', ')}; got ${faultsOnly.join(', ')}`);
/** KM_MATRIX_TARGETS=3.9.2 runs the 3.9.2 column only (no 4.1.1 target started: one release cluster at a time). */
const targetVersions = process.env.KM_MATRIX_TARGETS?.split(',').filter(Boolean) ?? ['3.9.2', '4.1.1'];

let t: TestTemporal;
let targets: MatrixTarget[];
const rows: MatrixRow[] = [];
const faultRows: MatrixRow[] = [];
const started = Date.now();

beforeAll(async () => {
  t = await startTestWorker();
  targets = [...(targetVersions.includes('3.9.2') ? [TARGET_392] : []), ...(targetVersions.includes('4.1.1') ? [await target411()] : [])];
}, 10 * 60_000);

afterAll(async () => {
  await t?.shutdown();
  if (!instance && targetVersions.includes('4.1.1')) await releaseDown('mx-target-4').catch(() => undefined); // another run (KM_MATRIX_PORT_BASE) may share it
  const notRun = [...SOURCE_RELEASES.filter((v) => !rows.some((r) => r.source === v)), ...(faultRows.length ? [] : ['3-broker faults'])];
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const table = [
    '_Each cell: a fresh source of that release, seeded by its own Java client (keyed topics in every codec the release',
    'has, a compacted topic, on 0.11+ a transactional topic with aborted transactions, headers where the format has',
    'them; two commit-only groups, one of them on the compacted and transactional topics), migrated through the real',
    'workflow (real worker and Temporal server), then checked by the target release’s own client against the source’s:',
    'record counts, a digest of key, value, headers and timestamp per partition in log order, and each group’s',
    'committed position. The migrator reaches the source over SASL where the release has it (SCRAM-SHA-512 in the 4.1.1',
    'column where the source has SCRAM), else PLAINTEXT (0.9: GSSAPI only). Seconds are the migration’s, from its start',
    'to the check’s end, not the clusters’ start and seeding._',
    '',
    matrixTable(rows, ['3.9.2', '4.1.1'], 'source \\ target'),
    '',
    matrixTable(faultRows, [...FAULTS], 'during the copy (target 3.9.2)'),
    '',
    `_Written by \`npm run test:matrix\` on ${new Date().toISOString().slice(0, 10)} (${minutes} min)${
      notRun.length ? `; rows not run in that run: ${notRun.join(', ')}` : ''
    }._`,
  ].join('\n');
  console.log(table);
  if ((!only && !faultsOnly && targetVersions.length === 2) || process.env.KM_MATRIX_WRITE_README === '1') writeReadmeMatrix(table);
}, 10 * 60_000);

// A KM_MATRIX_SOURCES run without `3b` does not register the fault row at all; the full matrix always runs it.
if (withFaults)
  test(
    '3-broker source: a leader restart, a SIGKILLed broker and a partition reassignment during the copy each end exact',
    async () => {
      const row = await runThreeBrokerRow(t, TARGET_392, faults);
      faultRows.push(row);
      expect(Object.fromEntries(Object.entries(row.cells).map(([k, c]) => [k, c.failure ?? 'exact']))).toEqual(
        Object.fromEntries(faults.map((f) => [f, 'exact'])),
      );
    },
    60 * 60_000,
  );

// KM_MATRIX_SOURCES=3b registers no source row (describe.each refuses an empty table).
if (sources.length)
  describe.each(sources)('source Kafka %s', (version) => {
    test(
      `migrates to ${targetVersions.join(' and ')} exactly`,
      async () => {
        const row = await runSourceRow(t, version, targets);
        rows.push(row);
        expect(Object.fromEntries(Object.entries(row.cells).map(([k, c]) => [k, c.failure ?? 'exact']))).toEqual(
          Object.fromEntries(targetVersions.map((v) => [v, 'exact'])),
        );
      },
      60 * 60_000,
    );
  });
