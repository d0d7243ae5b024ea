/**
 * The read-only commands (`preflight -f`, `inventory -f`) against the real clusters, run by a worker of the task
 * queue (a look workflow): they print their report and write files only into the folder given with --out, never
 * into the migration's own reports folder (`<reports.dir>/<name>/`), which a running migration's workflow owns.
 * Without a worker on the queue they exit 5 within --timeout and leave no look running.
 */
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, createSourceTopic } from './helpers/operator';
import { MIGRATOR_PASSWORD_FILE, SOURCE_SASL_BOOTSTRAP, sourceAdminKafka, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

const name = `ro-${uniqueSuffix()}`;
const topic = `${name}.orders`;
const dir = mkdtempSync(join(tmpdir(), 'km-ro-'));
const migrationDir = join(dir, 'reports', name);
const specFile = join(dir, 'spec.yaml');
/** What a live migration's workflow wrote: must survive every read-only command byte for byte. */
const LIVE = {
  'preflight.md': '# Preflight of the live migration: PASS\n',
  'preflight.json': '{"verdict":"pass"}\n',
  'inventory.md': '# live inventory\n',
  'inventory.json': '{}\n',
};

let t: TestTemporal;
let queue: string;

beforeAll(async () => {
  t = await startTestWorker();
  queue = t.settings.taskQueue;
  await createSourceTopic(topic, 3);
  mkdirSync(migrationDir, { recursive: true });
  for (const [file, text] of Object.entries(LIVE)) writeFileSync(join(migrationDir, file), text);
  writeFileSync(
    specFile,
    [
      `name: ${name}`,
      'source:',
      `  bootstrapServers: ["${SOURCE_SASL_BOOTSTRAP}"]`,
      '  securityProtocol: SASL_PLAINTEXT',
      `  sasl: { mechanism: PLAIN, username: migrator, password: { file: ${JSON.stringify(MIGRATOR_PASSWORD_FILE)} } }`,
      'target:',
      `  bootstrapServers: ["${TARGET_BOOTSTRAP}"]`,
      // a limit the shared target is always over: the preflight fails for certain, as in the reported incident
      '  capacity: { maxPartitions: 1 }',
      'scope:',
      `  topics: ["${name}\\\\..*"]`,
      'thresholds: { capacitySampleSeconds: 1 }',
      `reports: { dir: ${JSON.stringify(join(dir, 'reports'))} }`,
    ].join('\n'),
  );
});

afterAll(async () => {
  await t?.shutdown();
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

function expectLiveReportsUntouched(): void {
  expect(readdirSync(migrationDir).sort()).toEqual(Object.keys(LIVE).sort());
  for (const [file, text] of Object.entries(LIVE)) expect(readFileSync(join(migrationDir, file), 'utf8')).toBe(text);
}

test('preflight -f prints its report and leaves the migration folder byte-identical', async () => {
  const r = await cli(queue, 'preflight', '-f', specFile);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(new RegExp(`^# Preflight of migration ${name}: FAIL`, 'm'));
  expect(r.out).toContain('the target would hold');
  expect(r.out.trim().split('\n').pop()).toBe('preflight fail');
  expect(r.err).toMatch(/^error: preflight failed \([^)]*target-state[^)]*\)/);
  expectLiveReportsUntouched();
});

test('preflight --out DIR writes preflight.md (the printed report) and preflight.json there, and only there', async () => {
  const out = join(dir, 'elsewhere');
  const r = await cli(queue, 'preflight', '-f', specFile, '--out', out);
  expect(r.code).toBe(1);
  expect(r.out.trim().split('\n').pop()).toBe(`preflight fail; wrote ${join(out, 'preflight.md')} ${join(out, 'preflight.json')}`);
  const md = readFileSync(join(out, 'preflight.md'), 'utf8');
  expect(r.out).toContain(md.trim());
  expect(JSON.parse(readFileSync(join(out, 'preflight.json'), 'utf8'))).toMatchObject({ migration: name, verdict: 'fail' });
  expectLiveReportsUntouched();
});

test("--out naming the migration's own reports folder is refused (exit 2) before any cluster is read", async () => {
  for (const command of ['preflight', 'inventory']) {
    const r = await cli('unused-queue', command, '-f', specFile, '--out', `${migrationDir}/`);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `error: --out ${migrationDir}/ is the reports folder of migration ${name} (reports.dir/${name} = ${migrationDir}), which its workflow writes: give another folder`,
    });
  }
  expectLiveReportsUntouched();
});

test('inventory -f prints its report without writing; --out DIR writes inventory.md and inventory.json there', async () => {
  const printed = await cli(queue, 'inventory', '-f', specFile);
  expect(printed.code).toBe(0);
  expect(printed.out).toContain(topic);
  expect(printed.out.trim().split('\n').pop()).toMatch(/^inventory: \d+ topics, \d+ partitions, \d+ groups \(\d+ inactive topics, \d+ unclaimed groups\)$/);
  expectLiveReportsUntouched();

  const out = join(dir, 'inventory-out');
  const written = await cli(queue, 'inventory', '-f', specFile, '--out', out, '--quiet');
  expect(written.code).toBe(0);
  expect(written.out).toMatch(new RegExp(`^inventory: .*; wrote ${join(out, 'inventory.md')} ${join(out, 'inventory.json')}$`));
  expect(readFileSync(join(out, 'inventory.md'), 'utf8')).toContain(topic);
  expect(JSON.parse(readFileSync(join(out, 'inventory.json'), 'utf8')).topics.map((t: { name: string }) => t.name)).toContain(topic);
  expect(existsSync(join(out, 'preflight.md'))).toBe(false);
  expectLiveReportsUntouched();
});

test('without a worker on the task queue: exit 5 within --timeout, naming the queue; the look is terminated, not left to run later', async () => {
  const empty = `km-ro-none-${uniqueSuffix()}`;
  for (const command of ['preflight', 'inventory']) {
    const started = Date.now();
    const r = await cli(empty, '--timeout', '2', command, '-f', specFile);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.code).toBe(5);
    expect(r.err).toBe(
      `error: ${command}: no worker of task queue ${empty} answered within 2 s; the ${command} runs on a worker (it has the secrets and the broker access): start one ("KM_TASK_QUEUE=${empty} kafka-migrate-worker"), or raise --timeout`,
    );
  }
  // Both looks were started, then terminated: none can run later when a worker comes.
  const list = async () => {
    const found: string[] = [];
    for await (const w of t.client.workflow.list({ query: `TaskQueue = '${empty}'` })) found.push(w.status.name);
    return found;
  };
  expect(await until(list, (l) => l.length === 2 && l.every((s) => s === 'TERMINATED'), 'both looks terminated')).toHaveLength(2);
  expectLiveReportsUntouched();
});

test('the look ran on the worker as its own short workflow (kafka-migrate-look-*), not as a migration', async () => {
  const list = async () => {
    const found: { id: string; type: string; status: string }[] = [];
    for await (const w of t.client.workflow.list({ query: `TaskQueue = '${queue}'` })) found.push({ id: w.workflowId, type: w.type, status: w.status.name });
    return found;
  };
  // two preflights, two inventories (the refused --out runs never started one)
  const looks = await until(list, (l) => l.length === 4 && l.every((w) => w.status !== 'RUNNING'), 'the four looks closed');
  for (const l of looks) {
    expect(l.id).toMatch(new RegExp(`^kafka-migrate-look-(preflight|inventory)-${name}-`));
    expect(['preflightLookWorkflow', 'inventoryLookWorkflow']).toContain(l.type);
    expect(l.status).toBe('COMPLETED');
  }
});
