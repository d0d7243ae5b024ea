/** The digest and lock-step comparison logic in isolation (no broker): what makes a mismatch, how it is named. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { comparePartition } from '../src/verify/comparePartition';
import { recordDigest, toDigestRecord, type DigestRecord } from '../src/verify/recordDigest';
import { renderVerificationMarkdown } from '../src/reports/verificationReport';
import { writeReport } from '../src/reports/writeReport';
import type { PartitionOffsetMap } from '../src/types/copy';

const rec = (over: Partial<DigestRecord> = {}): DigestRecord => ({
  offset: 0,
  key: Buffer.from('k'),
  value: Buffer.from('v'),
  headers: [],
  timestamp: 1,
  ...over,
});
const hex = (r: DigestRecord, includeTimestamp = true) => recordDigest(r, { includeTimestamp }).toString('hex');

test('the record digest tells null from empty, sees header order and values, and the timestamp unless told not to', () => {
  expect(hex(rec({ key: null }))).not.toBe(hex(rec({ key: Buffer.alloc(0) })));
  expect(hex(rec({ value: null }))).not.toBe(hex(rec({ value: Buffer.alloc(0) })));
  // Shifting bytes between fields must not collide.
  expect(hex(rec({ key: Buffer.from('ab'), value: Buffer.from('c') }))).not.toBe(hex(rec({ key: Buffer.from('a'), value: Buffer.from('bc') })));
  const h1: [string, Buffer | null][] = [
    ['a', Buffer.from('1')],
    ['b', Buffer.from('2')],
  ];
  const h2: [string, Buffer | null][] = [
    ['b', Buffer.from('2')],
    ['a', Buffer.from('1')],
  ];
  expect(hex(rec({ headers: h1 }))).not.toBe(hex(rec({ headers: h2 })));
  expect(hex(rec({ timestamp: 1 }))).not.toBe(hex(rec({ timestamp: 2 })));
  expect(hex(rec({ timestamp: 1 }), false)).toBe(hex(rec({ timestamp: 2 }), false));
  // The offset is not content: the same record at another offset has the same digest.
  expect(hex(rec({ offset: 5 }))).toBe(hex(rec({ offset: 9 })));
});

test('kafkajs messages keep repeated headers in order', () => {
  const m = {
    offset: '3',
    key: null,
    value: Buffer.from('x'),
    timestamp: '7',
    headers: { a: [Buffer.from('1'), Buffer.from('2')], b: Buffer.from('3') },
  } as unknown as KafkaMessage;
  expect(toDigestRecord(m)).toEqual({
    offset: 3,
    key: null,
    value: Buffer.from('x'),
    timestamp: 7,
    headers: [
      ['a', Buffer.from('1')],
      ['a', Buffer.from('2')],
      ['b', Buffer.from('3')],
    ],
  });
});

async function* messages(list: { offset: number; value: string }[]): AsyncGenerator<KafkaMessage> {
  for (const m of list)
    yield { offset: String(m.offset), key: null, value: Buffer.from(m.value), timestamp: '1', headers: {}, attributes: 0 } as unknown as KafkaMessage;
}

test('lock-step comparison resynchronises after a mismatch and caps the detail lines', async () => {
  // Source offsets 10..39 copied to target 0..29 (one run); the target lost nothing but 25 values differ.
  const map: PartitionOffsetMap = {
    migration: 'm',
    topic: 't',
    partition: 0,
    runs: [{ sourceStart: 10, targetStart: 0, count: 30 }],
    checkpoint: { sourceStart: 10, sourceNext: 40, targetNext: 30, recordsCopied: 30, bytesCopied: 0, updatedAt: '' },
  };
  const src = Array.from({ length: 30 }, (_, i) => ({ offset: 10 + i, value: `v${i}` }));
  const tgt = src.map((m, i) => ({ offset: i, value: i < 25 ? `changed${i}` : m.value }));
  const r = await comparePartition({
    topic: 't',
    partition: 0,
    map,
    includeTimestamp: true,
    maxDetails: 3,
    source: { records: messages(src), start: 10, end: 40, probes: [12, 40] },
    target: { records: messages(tgt), start: 0, end: 30, probes: [2, 30] },
  });
  expect(r.verification.mismatches).toEqual([
    expect.stringMatching(/^t:0: digest differs over 30 records/),
    't:0: source offset 10 -> target offset 0: record differs (value)',
    't:0: source offset 11 -> target offset 1: record differs (value)',
    't:0: source offset 12 -> target offset 2: record differs (value)',
    't:0: ... and 22 more record mismatches',
  ]);
  expect(r.verification.mapConsistent).toBe(false);
  // Probes: the record at/after an offset, or null at the end.
  expect(r.sourceProbes.get(12)).toEqual({ offset: 12, digest: expect.any(String) });
  expect(r.sourceProbes.get(40)).toBeNull();
  expect(r.targetProbes.get(30)).toBeNull();
});

test('the verification report is written as JSON and Markdown listing every mismatch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-report-'));
  const report = {
    kind: 'verification' as const,
    migration: 'demo',
    batch: { number: 1, name: 'orders', topics: ['orders'], groups: ['billing'] },
    verifiedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1200,
    ok: false,
    partitions: [],
    groups: [],
    configs: [],
    mismatches: ['orders:0: record count differs: source 4 in [0, 4), target 5 in [0, 5)'],
  };
  const paths = writeReport({
    spec: { name: 'demo', reports: { dir } },
    fileStem: 'batch-1-orders-verification',
    json: report,
    markdown: renderVerificationMarkdown(report),
  });
  expect(paths.jsonPath).toBe(join(dir, 'demo', 'batch-1-orders-verification.json'));
  expect(JSON.parse(readFileSync(paths.jsonPath, 'utf8'))).toEqual(report);
  const md = readFileSync(paths.markdownPath, 'utf8');
  expect(md).toContain('# Verification of batch 1 (orders) of migration demo');
  expect(md).toContain('- orders:0: record count differs: source 4 in [0, 4), target 5 in [0, 5)');
  expect(() => writeReport({ spec: { name: 'demo', reports: { dir } }, fileStem: '../escape', json: {}, markdown: '' })).toThrow(/no path separators/);
});
