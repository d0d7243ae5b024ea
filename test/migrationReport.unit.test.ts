/**
 * Rendering of what the operator reads about batches: the migration report's decision table with each batch's
 * own decisions, its verification verdict and links to its reports (Markdown and HTML); the status view of a
 * migration whose workflows ended; the `report` command's detail reports read from real files.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillFromStore, readBatchReports, unreadStems } from '../src/cli/batchReports';
import { renderReport } from '../src/cli/reportCommand';
import { latestUpdate, renderBatchStatus, renderStatus } from '../src/cli/statusView';
import { markdownToHtmlBody } from '../src/reports/html';
import { renderMigrationMarkdown } from '../src/reports/migrationReport';
import type { BatchStatus, MigrationStatus } from '../src/types';

const at = (m: number) => `2024-01-01T00:${String(m).padStart(2, '0')}:00.000Z`;

function migration(): MigrationStatus {
  return {
    name: 'demo',
    phase: 'sync',
    batches: [
      {
        number: 1,
        name: 'ads',
        workflowId: 'migration-demo-batch-1-ads',
        state: 'completed',
        report: '/r/demo/batch-1-ads.md',
        reports: { offsets: '/r/demo/batch-1-ads-offsets.md', verification: '/r/demo/batch-1-ads-verification.md' },
        verification: { ok: true, mismatchCount: 0 },
        decisions: [
          { kind: 'approveCutover', by: 'bob', at: at(3), phase: 'awaiting-cutover-approval', accepted: true },
          { kind: 'producersStopped', by: 'bob', at: at(4), phase: 'awaiting-producers-stopped', accepted: true, comment: 'all 3 stopped' },
          { kind: 'consumersStopped', by: 'carol', at: at(5), phase: 'awaiting-consumers-stopped', accepted: true },
        ],
      },
      {
        number: 2,
        name: 'shop',
        workflowId: 'migration-demo-batch-2-shop',
        state: 'accepted-with-mismatches',
        verification: { ok: false, mismatchCount: 2 },
        decisions: [],
      },
      { number: 3, name: 'misc', workflowId: 'migration-demo-batch-3-misc', state: 'pending' },
    ],
    reports: {},
    decisions: [
      { kind: 'approvePlan', by: 'alice', at: at(1), phase: 'plan', accepted: true },
      { kind: 'approveBatch', by: 'alice', at: at(6), phase: 'sync', accepted: true, batch: 2 },
    ],
    startedAt: at(0),
    updatedAt: at(1),
  };
}

function batch(over: Partial<BatchStatus> = {}): BatchStatus {
  return {
    migration: 'demo',
    number: 1,
    name: 'ads',
    workflowId: 'migration-demo-batch-1-ads',
    strategy: 'producers-first',
    step: 'awaiting-producers-stopped',
    ready: true,
    waitingFor: { signal: 'producersStopped', reason: 'stop the producers' },
    rounds: 2,
    totals: { partitions: 1, lagRecords: 0, maxLagSeconds: 0, recordsCopied: 10, bytesCopied: 100, recordsPerSecond: 0, etaSeconds: 0 },
    partitions: [],
    milestones: { ready: at(2), cutoverApproved: at(7) },
    notes: [],
    decisions: [{ kind: 'approveCutover', by: 'bob', at: at(7), phase: 'awaiting-cutover-approval', accepted: true }],
    reports: {},
    ...over,
  };
}

describe('migration report', () => {
  const md = renderMigrationMarkdown({ outcome: 'in progress (sync)', status: migration() });

  test("the decision table lists the batches' decisions with their batch, in time order", () => {
    const table = md.slice(md.indexOf('## Decisions'));
    expect(table).toContain('| at | batch | phase | action | by | accepted | comment / reason |');
    const rows = table.split('\n').filter((l) => l.startsWith(`| ${at(0).slice(0, 10)}`));
    expect(rows).toEqual([
      `| ${at(1)} |  | plan | approvePlan | alice | yes |  |`,
      `| ${at(3)} | 1 | awaiting-cutover-approval | approveCutover | bob | yes |  |`,
      `| ${at(4)} | 1 | awaiting-producers-stopped | producersStopped | bob | yes | all 3 stopped |`,
      `| ${at(5)} | 1 | awaiting-consumers-stopped | consumersStopped | carol | yes |  |`,
      `| ${at(6)} | 2 | sync | approveBatch | alice | yes |  |`,
    ]);
  });

  test('each batch shows its verification verdict and links to its batch, offsets and verification reports', () => {
    expect(md).toContain('| # | system | workflow | state | records | bytes | write pause | verification | reports |');
    expect(md).toContain(
      '| 1 | ads | migration-demo-batch-1-ads | completed |  |  |  | OK | [batch](/r/demo/batch-1-ads.md), [offsets](/r/demo/batch-1-ads-offsets.md), [verification](/r/demo/batch-1-ads-verification.md) |',
    );
    expect(md).toContain('| 2 | shop | migration-demo-batch-2-shop | accepted-with-mismatches |  |  |  | 2 mismatch(es) |  |');
    expect(md).toContain('| 3 | misc | migration-demo-batch-3-misc | pending |  |  |  |  |  |');
  });

  test('the HTML page turns the report links into <a> and refuses script URLs', () => {
    const html = markdownToHtmlBody(md);
    expect(html).toContain('<a href="/r/demo/batch-1-ads-offsets.md">offsets</a>');
    expect(markdownToHtmlBody('see [x](javascript:alert(1)) and [y](https://e.example/a?b=1&c=2)')).toBe(
      '<p>see [x](javascript:alert(1)) and <a href="https://e.example/a?b=1&amp;c=2">y</a></p>',
    );
  });
});

describe('status view of ended workflows', () => {
  const s = (): MigrationStatus => ({ ...migration(), batches: [{ number: 1, name: 'ads', workflowId: 'migration-demo-batch-1-ads', state: 'running' }] });

  test('a batch the status calls running is shown with its real execution, without its live details', () => {
    const text = renderStatus('migration-demo', 'TERMINATED', s(), [batch()], {
      batchExecutions: { 'migration-demo-batch-1-ads': 'TERMINATED' },
      ended: { at: at(9), reason: 'terminated: test' },
    });
    expect(text).toMatch(/1 +ads +terminated \(was: awaiting-producers-stopped\)/);
    expect(text).toContain('  ended 2024-01-01T00:09:00.000Z: terminated: test');
    expect(text).not.toContain('waiting for: producersStopped');
    const running = renderStatus('migration-demo', 'RUNNING', s(), [batch()], { batchExecutions: { 'migration-demo-batch-1-ads': 'RUNNING' } });
    expect(running).toMatch(/1 +ads +running: awaiting-producers-stopped/);
    expect(running).toContain('waiting for: producersStopped');
  });

  test("'updated' is the newest of the migration's update and the batches' milestones and decisions", () => {
    expect(latestUpdate(s(), [])).toBe(at(1));
    expect(latestUpdate(s(), [batch()])).toBe(at(7));
    expect(renderStatus('migration-demo', 'RUNNING', s(), [batch()])).toContain(`started ${at(0)}, updated ${at(7)}`);
  });

  test('a batch workflow renders as a batch', () => {
    const text = renderBatchStatus('migration-demo-batch-1-ads', 'RUNNING', batch());
    expect(text.split('\n')[0]).toBe('migration-demo-batch-1-ads (RUNNING) — batch 1 (ads) of migration demo, step awaiting-producers-stopped');
    expect(text).toContain(`updated ${at(7)}`);
    expect(text).not.toContain('undefined');
    expect(renderBatchStatus('x', 'TERMINATED', undefined, { reason: 'terminated: t' })).toBe(
      'x (TERMINATED) — batch status unknown (no worker answered)\n  ended: terminated: t',
    );
  });
});

describe('report command: detail reports of each batch', () => {
  test('read from the recorded Markdown paths (JSON beside them); a missing file is said, not fatal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-rep-'));
    writeFileSync(join(dir, 'b1-offsets.md'), '# Offset translation (demo)\n');
    writeFileSync(join(dir, 'b1-offsets.json'), '{"groups":[]}');
    writeFileSync(join(dir, 'b1-verification.md'), '# Verification of batch 1\n');
    writeFileSync(join(dir, 'b1-verification.json'), '{"ok":false,"mismatches":["a:0: digest differs"]}');
    const status = migration();
    status.batches[0] = { ...status.batches[0], verification: undefined, reports: undefined };
    const live = batch({ step: 'completed', reports: { offsets: join(dir, 'b1-offsets.md'), verification: join(dir, 'b1-verification.md') } });
    const reports = readBatchReports(status.batches, [live]);
    expect(reports[0]).toMatchObject({ number: 1, verification: { ok: false, mismatchCount: 1 }, offsets: { json: { groups: [] } } });
    expect(reports[1]).toEqual({ number: 2, name: 'shop', verification: { ok: false, mismatchCount: 2 } });
    expect(reports).toHaveLength(2); // the pending batch has none

    const md = renderReport({ workflowId: 'migration-demo', outcome: 'x', status, batches: [live], batchReports: reports }, 'md');
    expect(md).toContain(
      `# Batch 1 (ads): verification 1 mismatch(es)\n\n_b1-offsets: read from ${join(dir, 'b1-offsets.md')} on this machine_\n\n# Offset translation (demo)\n\n_b1-verification: read from ${join(dir, 'b1-verification.md')} on this machine_\n\n# Verification of batch 1\n`,
    );
    expect(md).toContain('# Batch 2 (shop): verification 2 mismatch(es)\n\n- offset translation report: not written yet\n');
    expect(md).toMatch(/\| 1 \| ads \| [^\n]*\| 1 mismatch\(es\) \| \[batch\]\(\/r\/demo\/batch-1-ads\.md\), \[offsets\]\(/);

    const gone = readBatchReports([{ ...status.batches[0], reports: { offsets: join(dir, 'absent.md') } }], []);
    expect(gone[0].offsets).toEqual({
      fileStem: 'absent',
      markdownPath: join(dir, 'absent.md'),
      error: 'not readable here (ENOENT); it was written by a worker, on its disk',
    });
    expect(unreadStems(gone)).toEqual(['absent']);
    // A rolled-back batch's window reports are detail reports too (and asked of the store when not here).
    const window = {
      batch: 1,
      workflowId: 'w',
      state: 'rolled-back' as const,
      openedAt: at(1),
      reports: { offsets: join(dir, 'batch-1-ads-rollback-offsets.md') },
    };
    const rolledBack = readBatchReports([{ ...status.batches[0], reports: {} }], [], [window]);
    expect(rolledBack[0].rollback).toEqual([expect.objectContaining({ fileStem: 'batch-1-ads-rollback-offsets', error: expect.stringContaining('ENOENT') })]);
    expect(unreadStems(rolledBack)).toEqual(['batch-1-ads-rollback-offsets']);

    // What this machine cannot read comes from the report store (through a worker's look), saying so.
    const filled = fillFromStore(
      gone,
      new Map([
        [
          'absent',
          {
            fileStem: 'absent',
            manifest: {
              migration: 'demo',
              fileStem: 'absent',
              writeId: 'w',
              chunks: 1,
              gzipBytes: 9,
              sha256: 's',
              writtenAt: at(3),
              writtenBy: 'worker-b@host-b',
              paths: { jsonPath: '/b/absent.json', markdownPath: join(dir, 'absent.md') },
            },
            markdown: '# Offsets from the store\n',
            json: { groups: [1] },
          },
        ],
      ]),
    );
    expect(filled[0].offsets).toMatchObject({ source: 'report store', writtenBy: 'worker-b@host-b', json: { groups: [1] } });
    expect(unreadStems(filled)).toEqual([]);
    const filledMd = renderReport({ workflowId: 'migration-demo', outcome: 'x', status, batches: [], batchReports: filled }, 'md');
    expect(filledMd).toContain(
      `_absent: from the target's report store (written by worker worker-b@host-b at ${at(3)}; its file ${join(dir, 'absent.md')} is on that worker's disk)_\n\n# Offsets from the store\n`,
    );
  });
});
