/** The CLI without a workflow: help, usage and spec errors, exit codes, status rendering, the HTML report. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/main';
import { renderReport } from '../src/cli/reportCommand';
import { formatDuration, progressBar, renderStatus, topicProgress } from '../src/cli/statusView';
import { escapeHtml, markdownToHtmlBody } from '../src/reports/html';
import type { BatchStatus, MigrationStatus, PartitionProgressView } from '../src/types';
import { captureIo } from './helpers/operator';

describe('command line', () => {
  const COMMANDS = [
    'start',
    'status',
    'list',
    'approve',
    'reject',
    'override',
    'producers-stopped',
    'consumers-stopped',
    'retry-verification',
    'accept-mismatches',
    'abort',
    'report',
    'preflight',
    'inventory',
  ];

  test.each(COMMANDS)('%s --help prints its usage and exits 0', async (command) => {
    const io = captureIo();
    expect(await run([command, '--help'], io)).toBe(0);
    expect(io.stdout()).toContain(`Usage: kafka-migrate ${command}`);
  });

  test('the top-level help lists every command and the exit codes', async () => {
    const io = captureIo();
    expect(await run(['--help'], io)).toBe(0);
    for (const c of COMMANDS) expect(io.stdout()).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(io.stdout()).toContain('3 refused by the workflow');
  });

  test('usage errors exit 2 with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['approve', 'demo', '--step', 'later'], /argument 'later' is invalid. Allowed choices are plan, cutover, batch/],
      [['approve', 'demo'], /required option '--step <step>' not specified/],
      [['abort', 'demo', '--by', 'me'], /required option '--reason <text>' not specified/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['report', 'demo', '--format', 'pdf'], /Allowed choices are md, json, html/],
    ];
    for (const [argv, message] of cases) {
      const io = captureIo();
      expect(await run(argv, io)).toBe(2);
      expect(io.stderr()).toMatch(message);
    }
  });

  test('a bad --batch is refused before anything is sent', async () => {
    const io = captureIo();
    expect(await run(['producers-stopped', 'demo', '--batch', 'two', '--by', 'me'], io)).toBe(2);
    expect(io.stderr()).toBe('error: --batch: expected a batch number (1, 2, ...), got "two"');
  });

  test('a spec error exits 2 and names the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: Bad Name\nsource: { bootstrapServers: ["x:1"] }\ntarget: { bootstrapServers: ["y"] }\n');
    const io = captureIo();
    expect(await run(['start', '-f', file], io)).toBe(2);
    expect(io.stderr()).toMatch(/^invalid spec .*bad\.yaml:\n {2}- name: expected 1-63 lower-case/);
    expect(io.stderr()).toMatch(/target\.bootstrapServers\[0\]: expected host:port/);
    const missing = captureIo();
    expect(await run(['preflight', '-f', join(dir, 'none.yaml')], missing)).toBe(2);
    expect(missing.stderr()).toMatch(/cannot read spec file .*none\.yaml \(ENOENT\)/);
  });

  test('an unreachable Temporal exits 5 and says how to fix it', async () => {
    const io = captureIo();
    expect(await run(['--address', '127.0.0.1:1', 'list'], io)).toBe(5);
    expect(io.stderr()).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:1 .*; start it with "npm run stack:up" or set TEMPORAL_ADDRESS/);
    expect(io.stderr().split('\n')).toHaveLength(1);
  });
});

const partition = (topic: string, p: number, copied: number, lag: number, lagSeconds = 0): PartitionProgressView => ({
  topic,
  partition: p,
  sourceEnd: copied + lag,
  sourceNext: copied,
  targetNext: copied,
  lagRecords: lag,
  lagSeconds,
  bytesCopied: copied * 100,
  recordsCopied: copied,
  identicalOffsets: true,
});

function batchStatus(): BatchStatus {
  return {
    migration: 'demo',
    number: 1,
    name: 'payments',
    workflowId: 'migration-demo-batch-1-payments',
    strategy: 'producers-first',
    step: 'copying',
    ready: false,
    waitingFor: { signal: 'approveCutover', reason: 'the batch has caught up' },
    rounds: 3,
    totals: { partitions: 3, lagRecords: 300, maxLagSeconds: 4, recordsCopied: 900, bytesCopied: 90000, recordsPerSecond: 100, etaSeconds: 3 },
    partitions: [partition('payments.tx', 0, 400, 100, 4), partition('payments.tx', 1, 500, 0), partition('payments.idle', 0, 0, 200)],
    milestones: { started: '2024-01-01T00:00:00.000Z' },
    notes: [],
    decisions: [
      { kind: 'approveCutover', by: 'bob', at: '2024-01-01T00:02:00.000Z', phase: 'copying', accepted: false, reason: 'not expected in phase copying' },
    ],
    reports: {},
  };
}

function migrationStatus(): MigrationStatus {
  return {
    name: 'demo',
    phase: 'sync',
    batches: [
      { number: 1, name: 'payments', workflowId: 'migration-demo-batch-1-payments', state: 'running' },
      { number: 2, name: 'orders', workflowId: 'migration-demo-batch-2-orders', state: 'pending' },
    ],
    reports: { plan: '/r/demo/plan.md' },
    decisions: [{ kind: 'approvePlan', by: 'alice', at: '2024-01-01T00:01:00.000Z', phase: 'plan', accepted: true, comment: 'ok <b>' }],
    startedAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:01:00.000Z',
  };
}

describe('status view', () => {
  test('per-topic progress aggregates partitions', () => {
    expect(topicProgress(batchStatus().partitions)).toEqual([
      { topic: 'payments.idle', partitions: 1, recordsCopied: 0, lagRecords: 200, maxLagSeconds: 0, fraction: 0 },
      { topic: 'payments.tx', partitions: 2, recordsCopied: 900, lagRecords: 100, maxLagSeconds: 4, fraction: 0.9 },
    ]);
    expect(topicProgress([partition('empty', 0, 0, 0)])[0].fraction).toBe(1);
  });

  test('bars and durations', () => {
    expect(progressBar(0.5, 10)).toBe('[#####-----]  50%');
    expect(progressBar(1.7, 4)).toBe('[####] 100%');
    expect(formatDuration(null)).toBe('unknown');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(7260)).toBe('2h01m');
  });

  test('the running batch gets progress bars, lag and ETA; decisions of both workflows are merged in time order', () => {
    const text = renderStatus('migration-demo', 'RUNNING', migrationStatus(), [batchStatus()]);
    expect(text).toContain('migration-demo (RUNNING) — phase sync');
    expect(text).toMatch(/1 +payments +running: copying +900 +87\.9 KiB/);
    expect(text).toMatch(/2 +orders +pending/);
    expect(text).toContain('waiting for: approveCutover — the batch has caught up');
    expect(text).toContain('lag 300 records, max 4.0 s; 100 rec/s; ETA 3s');
    expect(text).toMatch(/payments\.tx +\[#{21}---\] {2}90% +900\/1,000 +lag 100 \(4\.0 s\) +2 partitions/);
    expect(text).toMatch(/payments\.idle +\[-{24}\] {3}0% +0\/200/);
    const decisions = text.slice(text.indexOf('Decisions'));
    expect(decisions.indexOf('approvePlan')).toBeLessThan(decisions.indexOf('approveCutover'));
    expect(decisions).toMatch(/copying \(batch 1\) +approveCutover +by bob +refused +not expected/);
  });
});

describe('reports', () => {
  test('the HTML page renders headings, tables and lists, and escapes everything', () => {
    const html = markdownToHtmlBody('# Title <x>\n\n- a **b** `c|<d>`\n- e\n\n| h1 | h2 |\n|---|---|\n| v\\|1 | <script> |\n\nplain & text');
    expect(html).toBe(
      [
        '<h1>Title &lt;x&gt;</h1>',
        '<ul>',
        '<li>a <strong>b</strong> <code>c|&lt;d&gt;</code></li>',
        '<li>e</li>',
        '</ul>',
        '<table>',
        '<thead><tr><th>h1</th><th>h2</th></tr></thead>',
        '<tbody>',
        '<tr><td>v|1</td><td>&lt;script&gt;</td></tr>',
        '</tbody>',
        '</table>',
        '<p>plain &amp; text</p>',
      ].join('\n'),
    );
    expect(escapeHtml(`"'`)).toBe('&quot;&#39;');
  });

  test('one report in three formats: migration then batches', () => {
    const data = { workflowId: 'migration-demo', outcome: 'in progress (sync)', status: migrationStatus(), batches: [batchStatus()], batchReports: [] };
    const md = renderReport(data, 'md');
    expect(md).toMatch(/^# Migration demo: in progress \(sync\)/);
    expect(md).toContain('# Batch 1 (payments) of migration demo');
    const html = renderReport(data, 'html');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<title>Migration demo: in progress (sync)</title>');
    expect(html).toContain('<td>ok &lt;b&gt;</td>');
    expect(html).not.toMatch(/<script|src=|href=/);
    // JSON: the data, the summaries completed by the live batch (its decisions and report paths)
    const status = { ...data.status, batches: [{ ...data.status.batches[0], decisions: batchStatus().decisions, reports: {} }, data.status.batches[1]] };
    expect(JSON.parse(renderReport(data, 'json'))).toEqual({ ...data, status });
  });
});
