/**
 * The Temporal Web UI shows a migration as an operator expects: headless Chromium (Debian's, driven by
 * playwright-core; nothing downloads a browser) finds `migration-<name>` through the search attributes
 * KmMigration and KmPhase, opens it, and saves a screenshot under reports/ui/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startMigration } from '../src/cli/startCommand';
import { migrationWorkflowId } from '../src/workflows/ids';
import { cli, createSourceTopic, waitForOperatorWait } from './helpers/operator';
import { stackSpec, uniqueSuffix } from './helpers/stack';
import { startTestWorker, type TestTemporal } from './helpers/temporal';

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
