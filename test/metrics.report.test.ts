/**
 * Operations: the real worker process (compiled worker/main.js) with KM_METRICS_ADDRESS runs a whole migration
 * (one batch, copied over several rounds while the source grows, cut over producers-first, verified). Its
 * Prometheus endpoint is scraped: Temporal's runtime metrics and the tool's own (records and bytes copied, lag,
 * write pause, verification) with real values. Then `report --format html` is built from the workflows: inline
 * SVG charts (throughput and lag over time, the write-pause timeline, verification per partition and group)
 * from that run's data, opened in headless Chromium and saved as a screenshot (reports/ui/report-charts.png).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { chromium } from 'playwright-core';
import { startMigration } from '../src/cli/startCommand';
import { createTopicsReady } from '../src/kafka/topicsReady';
import type { BatchStatus } from '../src/types';
import { migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, statusQuery } from '../src/workflows/messages';
import { cli, waitForOperatorWait } from './helpers/operator';
import { sourceAdminKafka, stackSpec, uniqueSuffix } from './helpers/stack';
import { until } from './helpers/until';
import { WorkerProcess } from './helpers/workerProcess';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = resolve(__dirname, '../reports/ui');

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
  });
}

/** `name{labels} value` lines of a Prometheus text exposition whose name and labels match. */
function samples(text: string, name: string, labels: Record<string, string> = {}): { labels: string; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => {
      const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(l)!;
      return { labels: m[1] ?? '', value: Number(m[2]) };
    })
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels.includes(`${k}="${v}"`)));
}

async function produce(topic: string, partitions: number, perPartition: number, tag: string): Promise<void> {
  const producer = sourceAdminKafka().producer();
  await producer.connect();
  try {
    for (let p = 0; p < partitions; p++) {
      await producer.send({
        topic,
        messages: Array.from({ length: perPartition }, (_, i) => ({
          partition: p,
          key: `${tag}-${p}-${i}`,
          value: `value ${tag} ${p} ${i} ${'x'.repeat(200)}`,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

let worker: WorkerProcess;
let connection: Connection;
let client: Client;
let metricsUrl: string;
const taskQueue = `km-metrics-${uniqueSuffix()}`;

beforeAll(async () => {
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = new WorkerProcess({
    taskQueue,
    logFile: resolve(__dirname, `../.stack/logs/metrics-worker-${taskQueue}.log`),
    env: { KM_METRICS_ADDRESS: `127.0.0.1:${port}` },
  });
  await worker.start();
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  client = new Client({ connection });
}, 600_000); // builds the worker (tsc) and bundles its workflows: minutes on a loaded 2-core machine
afterAll(async () => {
  await worker?.stop();
  await connection?.close();
});

test('a migration run by the worker process: its Prometheus metrics have real values; the HTML report charts that run', async () => {
  const name = `metrics-${uniqueSuffix()}`;
  const workflowId = migrationWorkflowId(name);
  const topics = [`${name}.orders`, `${name}.payments`];
  const group = `${name}-billing`;
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    await createTopicsReady(
      admin,
      topics.map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })),
    );
    for (const topic of topics) await produce(topic, 2, 500, 'a');
    // A consumer group that consumed part of the orders: its offsets are translated and verified.
    await admin.setOffsets({ groupId: group, topic: topics[0], partitions: [0, 1].map((partition) => ({ partition, offset: '300' })) });
  } finally {
    await admin.disconnect();
  }
  const reportsDir = mkdtempSync(join(tmpdir(), 'km-metrics-'));
  const spec = stackSpec({
    name,
    scope: { topics: [`${name}\\..*`] },
    thresholds: { capacitySampleSeconds: 1, quietPeriodSeconds: 1 },
    copy: { roundSeconds: 2 },
    reports: { dir: reportsDir },
  });
  await startMigration(client, taskQueue, spec);
  const planned = await waitForOperatorWait(client, workflowId);
  expect(planned.waitingFor?.signal).toBe('approvePlan|rejectPlan');
  expect(planned.plan?.batches).toHaveLength(1);
  expect(await cli(taskQueue, 'approve', name, '--step', 'plan', '--by', 'metrics-test')).toMatchObject({ code: 0 });

  // Copy rounds while the source grows: the samples (and charts) see throughput and lag change over time.
  const batchStatus = async (): Promise<BatchStatus> => {
    const s = await client.workflow.getHandle(workflowId).query(statusQuery);
    return client.workflow.getHandle(s.batches[0].workflowId).query(batchStatusQuery);
  };
  await until(batchStatus, (s) => s.rounds >= 1, 'the first copy round', 120_000).catch(() => undefined);
  for (let i = 0; i < 3; i++) {
    for (const topic of topics) await produce(topic, 2, 300, `b${i}`);
    const before = (await batchStatus()).rounds;
    await until(batchStatus, (s) => s.rounds >= before + 1, `copy round after burst ${i}`, 60_000);
  }
  await until(batchStatus, (s) => s.step === 'awaiting-cutover-approval', 'the batch is ready for cutover', 120_000);
  // Follow rounds go on while it waits: until every record is copied.
  await until(batchStatus, (s) => s.totals.recordsCopied === 5600 && s.totals.lagRecords === 0, 'every record copied', 60_000);

  // Scrape while copying: the tool's copy metrics and Temporal's own.
  const during = await (await fetch(metricsUrl)).text();
  const recordsCopied = samples(during, 'km_copy_records_total', { migration: name });
  expect(recordsCopied.length).toBeGreaterThan(0);
  // 2 topics x 2 partitions x (500 + 3 x 300) records, all copied once.
  expect(recordsCopied.reduce((a, s) => a + s.value, 0)).toBe(2 * 2 * (500 + 900));
  expect(samples(during, 'km_copy_bytes_total', { migration: name }).reduce((a, s) => a + s.value, 0)).toBeGreaterThan(5600 * 200);
  expect(samples(during, 'km_batch_records_copied', { migration: name, batch: '1' })[0]?.value).toBe(5600);
  expect(samples(during, 'km_batch_lag_records', { migration: name, batch: '1' })[0]?.value).toBe(0);
  expect(samples(during, 'km_batch_records_per_second', { migration: name, batch: '1' })).toHaveLength(1);
  // Temporal's runtime metrics on the same endpoint (Core's, with their temporal_ prefix).
  expect(samples(during, 'temporal_activity_execution_latency_count', { task_queue: taskQueue }).length).toBeGreaterThan(0);
  expect(samples(during, 'temporal_workflow_task_execution_latency_count', { task_queue: taskQueue }).length).toBeGreaterThan(0);

  // Cutover, producers-first (nothing writes now), and verification.
  expect(await cli(taskQueue, 'approve', name, '--step', 'cutover', '--by', 'metrics-test')).toMatchObject({ code: 0 });
  await until(batchStatus, (s) => s.step === 'awaiting-producers-stopped', 'waits for producersStopped', 60_000);
  expect(await cli(taskQueue, 'producers-stopped', name, '--by', 'metrics-test')).toMatchObject({ code: 0 });
  await until(batchStatus, (s) => s.step === 'awaiting-consumers-stopped', 'waits for consumersStopped', 60_000);
  expect(await cli(taskQueue, 'consumers-stopped', name, '--by', 'metrics-test')).toMatchObject({ code: 0 });
  const result = (await client.workflow.getHandle(workflowId).result()) as { outcome: string };
  expect(result.outcome).toBe('completed');
  const final = await batchStatus();
  expect(final.verification).toEqual({ ok: true, mismatchCount: 0 });
  expect(final.writePauseMs).toBeGreaterThan(0);

  const after = await (await fetch(metricsUrl)).text();
  const pause = samples(after, 'km_batch_write_pause_ms', { migration: name, batch: '1' });
  expect(pause).toHaveLength(1);
  expect(pause[0].value).toBe(final.writePauseMs);
  expect(samples(after, 'km_batch_verification_ok', { migration: name, batch: '1' })[0]?.value).toBe(1);
  expect(samples(after, 'km_batch_verification_mismatches', { migration: name, batch: '1' })[0]?.value).toBe(0);
  expect(samples(after, 'km_batch_verifications_total', { migration: name, batch: '1', result: 'ok' })[0]?.value).toBe(1);

  // The batch kept bounded copy samples of its rounds (the charts' data).
  expect(final.samples?.length).toBeGreaterThanOrEqual(4);
  expect(final.samples!.length).toBeLessThanOrEqual(200);
  expect(Math.max(...final.samples!.map((s) => s.recordsPerSecond))).toBeGreaterThan(0);

  // The HTML report: charts from this run, inline SVG, nothing loaded from elsewhere.
  const htmlFile = join(reportsDir, 'report.html');
  expect(await cli(taskQueue, 'report', name, '--format', 'html', '--out', htmlFile)).toMatchObject({ code: 0 });
  const html = readFileSync(htmlFile, 'utf8');
  expect(html).not.toMatch(/<script|<link|src=|@import/);
  const points = [...html.matchAll(/class="km-series" data-series="([^"]+)" data-points="(\d+)"/g)].map((m) => [m[1], Number(m[2])]);
  expect(points).toEqual([
    ['records/s', final.samples!.length],
    ['lag (records)', final.samples!.length],
    ['max lag (s)', final.samples!.length],
  ]);
  const spans = [...html.matchAll(/class="km-span" data-ms="(\d+)"/g)].map((m) => Number(m[1]));
  expect(spans[0]).toBe(final.writePauseMs); // the whole write pause first, then its steps
  expect(spans.length).toBeGreaterThanOrEqual(3);
  // One green cell per partition (4) and per group (1); the verification verdict and detail reports are in.
  expect(html.match(/class="km-cell ok"/g)).toHaveLength(5);
  expect(html).not.toContain('km-cell mismatch');
  expect(html).toContain('verification per partition and group: 5 of 5 equal');
  expect(html).toContain('verification OK');
  const json = JSON.parse((await cli(taskQueue, 'report', name, '--format', 'json')).out) as {
    batches: BatchStatus[];
    batchReports: { verification?: { ok: boolean }; offsets?: { json?: unknown }; verificationReport?: { json?: { ok?: boolean } } }[];
  };
  expect(json.batches[0].samples).toHaveLength(final.samples!.length);
  expect(json.batchReports[0]).toMatchObject({ verification: { ok: true }, verificationReport: { json: { ok: true } } });
  expect(json.batchReports[0].offsets?.json).toBeDefined();

  // Looked at in Chromium: the charts render (non-empty boxes), saved as a screenshot to check by eye.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`file://${htmlFile}`);
    const boxes = await page.locator('figure.km-chart svg').evaluateAll((svgs) => svgs.map((s) => s.getBoundingClientRect().height));
    expect(boxes).toHaveLength(5);
    for (const h of boxes) expect(h).toBeGreaterThan(20);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const charts = page.locator('section.km-charts').first();
    await charts.screenshot({ path: resolve(SCREENSHOTS, 'report-charts.png') });
    expect(existsSync(resolve(SCREENSHOTS, 'report-charts.png'))).toBe(true);
  } finally {
    await browser.close();
  }
}, 600_000);
