/**
 * Replay tests (issue 11 §1): every history recorded under test/replay/ (real runs of older workflow code: a
 * completed migration and its batches, a preflight override, an edited plan, an abort, a cancellation from the
 * client, blocked and retried batches, a resume, both cutover strategies, a batch that continued as new) replays
 * against today's workflow bundle without a nondeterminism error. A workflow change that alters the commands of a
 * recorded path without `patched()` (src/workflows/patches.ts) fails here. Proven by the last tests: the same
 * fixture replayed against a bundle with one extra activity call fails with a DeterminismViolationError, and
 * passes once that call is guarded by `patched()`.
 * No Temporal server is needed: replay runs in-process on the bundle of test/helpers/globalSetup.ts.
 */
import { cpSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { BUNDLE_PATH } from './helpers/globalSetup';
import { fixtureNames, loadFixture, replayHistories, type ReplayFixture } from './replay/fixtures';

const ROOT = resolve(__dirname, '..');
/** The altered copies of src/ are bundled inside the repo so that node_modules resolve. */
const TMP_ROOT = resolve(ROOT, '.stack/tmp-replay');
/** The fixture the negative tests alter the code under: short, and its first command is the one altered. */
const NEGATIVE_FIXTURE = 'completed-producers-first';

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  } catch {
    // already installed by another file of this jest process
  }
});

async function replay(fixture: ReplayFixture, codePath: string): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath }, replayName: `replay-${fixture.name}` }, replayHistories(fixture))) {
    results.push(r);
  }
  return results;
}

const failures = (results: ReplayResult[]) =>
  results.filter((r) => r.error).map((r) => `${r.workflowId} (run ${r.runId}): ${r.error?.name}: ${r.error?.message}`);

/** Every scenario issue 11 asks a fixture of, each named by the fixtures covering it. */
const REQUIRED: Record<string, string[]> = {
  'completed migration with its batches, producers-first cutover': ['completed-producers-first'],
  'preflight override': ['preflight-override'],
  'edited plan (approvePlan with an edited plan)': ['edited-plan'],
  'abort, and a cancellation from the client (= abort)': ['abort-in-plan', 'cancelled-by-client'],
  'blocked and retried batches (SourceTopicMissing → exclude-topic, GroupActiveOnTarget → retry)': [
    'blocked-source-topic-deleted',
    'blocked-group-active-on-target',
  ],
  resume: ['resume'],
  'consumers-first cutover': ['consumers-first'],
  'batch continued as new': ['continued-as-new'],
  'rollback windows: one rolled back, one finalized': ['rollback-window'],
};

const names = fixtureNames();

test('the fixtures cover every required scenario; each names its workflow and says what it covers', () => {
  const missing = Object.entries(REQUIRED).flatMap(([scenario, needed]) => needed.filter((n) => !names.includes(n)).map((n) => `${scenario}: ${n}.json`));
  expect(missing).toEqual([]);
  for (const name of names) {
    const f = loadFixture(name);
    expect(f.name).toBe(name);
    expect(f.workflowId).toMatch(/^migration-/);
    expect(f.description.length).toBeGreaterThan(10);
    expect(f.workflows[0]!.workflowId).toBe(f.workflowId);
    expect(f.workflows.every((w) => w.status !== 'RUNNING')).toBe(true);
  }
});

describe.each(names)('replay %s', (name) => {
  const fixture = loadFixture(name);
  test(`${fixture.description} (${fixture.workflowId}, ${fixture.workflows.length} run(s)) replays without nondeterminism`, async () => {
    const results = await replay(fixture, BUNDLE_PATH);
    expect(failures(results)).toEqual([]);
    expect(results.map((r) => r.workflowId)).toEqual(fixture.workflows.map((w) => w.workflowId));
  });
});

describe('a change that alters the commands of a recorded path', () => {
  const dir = resolve(TMP_ROOT, `${process.pid}-${Date.now().toString(36)}`);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    try {
      rmdirSync(TMP_ROOT); // only when empty: another run's copies stay
    } catch {
      // not empty, or already gone
    }
  });

  /** Bundles a copy of src/ whose migration workflow runs `insert` as its first statement. */
  async function alteredBundle(label: string, insert: string): Promise<string> {
    const copy = resolve(dir, label);
    mkdirSync(copy, { recursive: true });
    cpSync(resolve(ROOT, 'src'), resolve(copy, 'src'), { recursive: true });
    const file = resolve(copy, 'src/workflows/migration.ts');
    const source = readFileSync(file, 'utf8');
    const entry = /export async function migrationWorkflow\([^)]*\)[^{]*\{\n/;
    if (!entry.test(source)) throw new Error('migrationWorkflow not found in src/workflows/migration.ts: update the negative replay test');
    const altered = source.replace(entry, (m) => `${m}${insert}\n`);
    const imports = `import { proxyActivities as kmProbeActivities, patched as kmProbePatched } from '@temporalio/workflow';\n`;
    writeFileSync(file, imports + altered);
    const quiet = () => undefined;
    const { code } = await bundleWorkflowCode({
      workflowsPath: resolve(copy, 'src/workflows'),
      logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: console.error },
    });
    const codePath = resolve(copy, 'workflow-bundle.js');
    writeFileSync(codePath, code);
    return codePath;
  }

  const probe = `await kmProbeActivities<Record<string, () => Promise<void>>>({ startToCloseTimeout: '1 minute' }).kmReplayProbe!();`;

  test('an extra activity call at the start of the migration workflow fails replay with a DeterminismViolationError', async () => {
    const fixture = loadFixture(NEGATIVE_FIXTURE);
    const results = await replay(fixture, await alteredBundle('unpatched', `  ${probe}`));
    const migration = results.find((r) => r.workflowId === fixture.workflowId);
    expect(migration?.error).toBeInstanceOf(DeterminismViolationError);
    expect(migration?.error?.message).toMatch(/nondetermin/i);
    // The batch workflows' code is unchanged: they still replay.
    expect(results.filter((r) => r.workflowId !== fixture.workflowId && r.error)).toEqual([]);
  });

  test('the same call guarded by patched() replays (the old path is taken for the recorded history)', async () => {
    const fixture = loadFixture(NEGATIVE_FIXTURE);
    const results = await replay(fixture, await alteredBundle('patched', `  if (kmProbePatched('km-replay-probe')) ${probe}`));
    expect(failures(results)).toEqual([]);
  });
});
