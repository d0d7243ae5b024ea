/**
 * The Temporal Web UI shows a migration as an operator expects: headless Chromium (Debian's, driven by
 * playwright-core; nothing downloads a browser) finds `migration-<name>` through the search attributes
 * KmMigration and KmPhase, opens it, and saves a screenshot under reports/ui/. A waiting batch's page shows its
 * static summary, current details (what it waits for, the CLI command, the signal and its JSON input, progress) and
 * its activities' summaries, all without a query opened by the operator.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startMigration } from '../src/cli/startCommand';
import { migrationStaticSummary } from '../src/workflows/currentDetails';
import { migrationWorkflowId } from '../src/workflows/ids';
import { batchStatusQuery, statusQuery } from '../src/workflows/messages';
import { cli, createSourceTopic, waitForOperatorWait } from './helpers/operator';
import { stackSpec, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';
import { until } from './helpers/until';

const CHROMIUM = '/usr/bin/chromium';
const UI = process.env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${process.env.TEMPORAL_UI_PORT ?? 8233}`;
const SCREENSHOTS = resolve(__dirname, '../reports/ui');

let t: TestTemporal;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`);
  t = await startTestWorker();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.shutdown();
});

/** The workflow list filtered by a visibility query, as typed into the UI's query filter. */
async function listPage(page: Page, query: string): Promise<void> {
  await page.goto(`${UI}/namespaces/default/workflows?query=${encodeURIComponent(query)}`, { waitUntil: 'domcontentloaded' });
}

test('a waiting migration is listed, filterable by KmMigration and KmPhase, and opens in the UI', async () => {
  const name = `ui-${uniqueSuffix()}`;
  const workflowId = migrationWorkflowId(name);
  await createSourceTopic(`${name}.orders`, 3);
  const spec = stackSpec({
    name,
    scope: { topics: [`${name}\\..*`] },
    thresholds: { capacitySampleSeconds: 1 },
    reports: { dir: resolve(SCREENSHOTS, '..', 'ui-test') },
  });
  await startMigration(t.client, t.settings.taskQueue, spec);
  const status = await waitForOperatorWait(t.client, workflowId);
  expect(status.waitingFor).toBeDefined();
  const phase = status.phase;

  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  try {
    // Listed by migration name, with its workflow id and type.
    await listPage(page, `KmMigration="${name}"`);
    const row = page.locator('table tbody tr, [role="row"]', { hasText: workflowId });
    await row.first().waitFor({ timeout: 20_000 });
    expect(await row.count()).toBe(1);
    await expect(row.first().innerText()).resolves.toContain('migrationWorkflow');

    // Filterable by phase: found under its current phase, not under another one.
    mkdirSync(SCREENSHOTS, { recursive: true });
    await listPage(page, `KmMigration="${name}" AND KmPhase="${phase}"`);
    await page.locator('table tbody tr, [role="row"]', { hasText: workflowId }).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: resolve(SCREENSHOTS, 'migration-list.png') });
    await listPage(page, `KmMigration="${name}" AND KmPhase="connectivity"`);
    await page
      .getByText(/No Results/i)
      .first()
      .waitFor({ timeout: 20_000 });

    // Open it: the details page shows the readable id and type; its Search Attributes tab the current phase.
    await page.goto(`${UI}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'domcontentloaded' });
    await page.getByText(workflowId).first().waitFor({ timeout: 20_000 });
    const header = await page.locator('body').innerText();
    expect(header).toContain('migrationWorkflow');
    expect(header).toMatch(/Running/);
    await page.locator('#search-attributes-tab').click();
    await page.getByText(`"KmPhase": "${phase}"`).first().waitFor({ timeout: 20_000 });
    await expect(page.locator('body').innerText()).resolves.toContain(`"KmMigration": "${name}"`);
    const shot = resolve(SCREENSHOTS, 'migration-workflow.png');
    await page.screenshot({ path: shot });
    expect(existsSync(shot)).toBe(true);
  } finally {
    await page.close();
    const aborted = await cli(t.settings.taskQueue, 'abort', name, '--by', 'ui-test', '--reason', 'end of the UI test');
    expect(aborted.code).toBe(0);
  }
  await expect(t.client.workflow.getHandle(workflowId).result()).resolves.toMatchObject({ outcome: 'aborted' });
});

/**
 * The texts of the workflow page's User Metadata tab: the UI renders the static summary and the current details
 * (Markdown) each in its own frame (`/render?content=...`), filled from the workflow's metadata query by the UI
 * itself. Waits until one frame contains `expected`; returns that frame's text and whether its signal lines are shown (not cut off).
 */
async function userMetadata(page: Page, expected: string): Promise<{ text: string; shown: boolean }> {
  // The page keeps polling the server: do not wait for "navigation" after the click.
  if (!page.url().endsWith('/user-metadata')) await page.locator('#user-metadata-tab').click({ noWaitAfter: true });
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const frame of page.frames().filter((f) => f.url().includes('/render?content='))) {
      const text = await frame
        .locator('body')
        .innerText()
        .catch(() => '');
      if (!text.includes(expected)) continue;
      // Shown: the line naming the signal and its input ends within the height the UI gave the frame (not cut off).
      const shown =
        (await frame.evaluate(
          `[...document.querySelectorAll('li')].filter((e) => e.textContent.includes('Send a Signal')).every((e) => e.getBoundingClientRect().bottom <= window.innerHeight)`,
        )) === true;
      return { text, shown };
    }
    if (Date.now() > deadline) throw new Error(`the User Metadata tab never showed "${expected}"`);
    await page.waitForTimeout(500);
  }
}

test('a waiting batch shows its summary, current details (the CLI command, the signal and its JSON input, progress) and activity summaries in the UI', async () => {
  const name = `uib-${uniqueSuffix()}`;
  const workflowId = migrationWorkflowId(name);
  await createSourceTopic(`${name}.orders`, 40);
  const spec = stackSpec({
    name,
    scope: { topics: [`${name}\\..*`] },
    thresholds: { capacitySampleSeconds: 1 },
    copy: { roundSeconds: 2 },
    reports: { dir: resolve(SCREENSHOTS, '..', 'ui-test') },
  });
  await startMigration(t.client, t.settings.taskQueue, spec);
  const planned = await waitForOperatorWait(t.client, workflowId);
  expect(planned.waitingFor?.signal).toBe('approvePlan|rejectPlan');

  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  try {
    // The migration's page: its static summary, and current details naming what it waits for, the CLI command and
    // the signal with its JSON input. The operator opens a tab; no query.
    await page.goto(`${UI}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'domcontentloaded' });
    await page.getByText(workflowId).first().waitFor({ timeout: 20_000 });
    expect((await userMetadata(page, migrationStaticSummary(spec))).text).toContain(migrationStaticSummary(spec));
    const migration = await userMetadata(page, `kafka-migrate approve ${name} --step plan --by "<your name>"`);
    expect(migration.text).toContain('phase plan');
    expect(migration.text).toContain('Send a Signal approvePlan to this workflow, input {"by":"<your name>"}');
    expect(migration.text).toContain(`kafka-migrate reject ${name} --by "<your name>" --reason "<why>"`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: resolve(SCREENSHOTS, 'migration-details.png') });

    expect((await cli(t.settings.taskQueue, 'approve', name, '--step', 'plan', '--by', 'ui-test')).code).toBe(0);
    const status = await until(
      () => t.client.workflow.getHandle(workflowId).query(statusQuery),
      (s) => s.batches[0]?.state === 'running',
      'batch 1 runs',
      60_000,
    );
    const batch = status.batches[0];
    const batchStatus = () => t.client.workflow.getHandle(batch.workflowId).query(batchStatusQuery);
    const waiting = await until(
      batchStatus,
      (s) => s.step === 'awaiting-cutover-approval' && s.totals.recordsCopied === 40,
      'the batch waits for approveCutover',
      120_000,
    );
    expect(waiting.waitingFor?.signal).toBe('approveCutover');

    // The waiting batch's page, as an operator opens it from the list.
    await page.goto(`${UI}/namespaces/default/workflows/${encodeURIComponent(batch.workflowId)}`, { waitUntil: 'domcontentloaded' });
    await page.getByText(batch.workflowId).first().waitFor({ timeout: 20_000 });
    const summary = await userMetadata(page, `migration ${name} · batch 1 · system ${batch.name}`);
    expect(summary.text).toContain('(1 topics, 0 groups)');
    const details = await userMetadata(page, `kafka-migrate approve ${name} --step cutover --batch 1 --by "<your name>"`);
    expect(details.text).toContain('step awaiting-cutover-approval, ready for cutover');
    expect(details.text).toContain('Waiting for approveCutover: the batch has caught up');
    expect(details.text).toContain('Send a Signal approveCutover to this workflow, input {"by":"<your name>","batch":1}');
    expect(details.text).toMatch(
      /Progress: 40 records \(\d+(\.\d)? (B|KiB)\) copied; lag 0 records \(max 0 s\); \d+ records\/s; ETA caught up; 1 partitions, \d+ rounds/,
    );
    await page.screenshot({ path: resolve(SCREENSHOTS, 'batch-waiting.png') });
    expect(details.shown).toBe(true);
    // Activity summaries (the same tab's "Events with Metadata"): what each copy round copies, for which batch.
    await page.getByText(`follow copy of 1 partitions (${name}.orders) — migration ${name}, batch 1 (${batch.name})`).first().waitFor({ timeout: 30_000 });
  } finally {
    await page.close();
    const aborted = await cli(t.settings.taskQueue, 'abort', name, '--by', 'ui-test', '--reason', 'end of the UI test');
    expect(aborted.code).toBe(0);
  }
  await expect(t.client.workflow.getHandle(workflowId).result()).resolves.toMatchObject({ outcome: 'aborted' });
}, 300_000);
