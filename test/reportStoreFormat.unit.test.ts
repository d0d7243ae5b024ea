/**
 * The report store's layout (src/reports/reportStoreFormat.ts): chunks below the message size, a manifest last; a
 * rewrite with fewer chunks leaves its predecessor's extra chunks in the topic, and they are never read back, in the
 * log as written and as compaction leaves it; a missing or altered chunk is an error, never a wrong report.
 */
import { randomBytes } from 'node:crypto';
import { encodeReport, StoredReportAssembler, type ReportContent, type StoreRecord } from '../src/reports/reportStoreFormat';

const paths = { jsonPath: '/w/r/demo/batch-1-a-verification.json', markdownPath: '/w/r/demo/batch-1-a-verification.md' };
const encode = (content: ReportContent, chunkBytes: number, fileStem = 'batch-1-a-verification') =>
  encodeReport({ migration: 'demo', fileStem, content, chunkBytes, writtenAt: '2026-12-01T00:00:00.000Z', writtenBy: 'worker-b@host-b', paths });

/** What a compacted topic keeps: the latest record per key, in the order of their last writes. */
function compacted(log: StoreRecord[]): StoreRecord[] {
  const last = new Map<string, number>();
  log.forEach((r, i) => last.set(r.key, i));
  return log.filter((r, i) => last.get(r.key) === i && r.value !== null);
}

function read(log: StoreRecord[], stems: string[], migration = 'demo') {
  const a = new StoredReportAssembler(migration, new Set(stems));
  for (const r of log) a.add(r);
  return a.result();
}

// Random hex compresses only to about half: this content takes several 4 KiB chunks.
const big: ReportContent = {
  markdown: `# Verification\n${randomBytes(12000).toString('hex')}\n`,
  json: { ok: true, mismatches: [], blob: randomBytes(3000).toString('hex') },
};
const small: ReportContent = { markdown: '# Verification\nok\n', json: { ok: true, mismatches: [] } };

test('a large report is cut into chunks below the chunk size, the manifest last, and read back whole', () => {
  const { records, manifest } = encode(big, 4096);
  expect(manifest.chunks).toBeGreaterThanOrEqual(3);
  expect(records).toHaveLength(manifest.chunks + 1);
  for (const r of records.slice(0, -1)) expect(r.value!.length).toBeLessThanOrEqual(4096);
  expect(records.at(-1)!.key).toBe('demo/batch-1-a-verification');
  expect(manifest).toMatchObject({ migration: 'demo', fileStem: 'batch-1-a-verification', writtenBy: 'worker-b@host-b', paths });
  const got = read(records, ['batch-1-a-verification']).get('batch-1-a-verification');
  expect(got).toEqual({ manifest, content: big });
});

test('a rewrite with fewer chunks: the stale chunks of the longer version are never read, before or after compaction', () => {
  const first = encode(big, 4096);
  const second = encode(small, 4096);
  expect(second.manifest.chunks).toBe(1);
  const log = [...first.records, ...second.records];
  // The longer version's chunks #1.. are still in the topic under keys the rewrite did not overwrite...
  const stale = compacted(log).filter((r) => /#[1-9]\d*$/.test(r.key));
  expect(stale.length).toBe(first.manifest.chunks - 1);
  // ...and neither the full log nor the compacted one gives anything but the rewrite.
  for (const records of [log, compacted(log)])
    expect(read(records, ['batch-1-a-verification']).get('batch-1-a-verification')).toEqual({ manifest: second.manifest, content: small });
  // Growing again overwrites the stale keys: the newest version wins.
  const third = encode(big, 4096);
  expect(read(compacted([...log, ...third.records]), ['batch-1-a-verification']).get('batch-1-a-verification')).toEqual({
    manifest: third.manifest,
    content: big,
  });
});

test('a reader between the chunks and the manifest of a rewrite still reads the previous version whole', () => {
  const first = encode(big, 4096);
  const second = encode({ ...big, markdown: `${big.markdown}more\n` }, 4096);
  const partial = [...first.records, ...second.records.slice(0, 2)]; // the rewrite's first chunks replaced keys #0, #1
  expect(read(partial, ['batch-1-a-verification']).get('batch-1-a-verification')).toEqual({ manifest: first.manifest, content: big });
});

test('a chunk missing or altered is an error naming it; other migrations and stems are not collected', () => {
  const { records, manifest } = encode(big, 4096);
  const missing = records.filter((r) => !r.key.endsWith('#1'));
  expect(read(missing, ['batch-1-a-verification']).get('batch-1-a-verification')).toEqual({
    manifest,
    error: `chunk 2 of ${manifest.chunks} of write ${manifest.writeId} is missing from the store`,
  });
  const altered = records.map((r) => (r.key.endsWith('#0') ? { ...r, value: Buffer.concat([r.value!.subarray(1), Buffer.from('x')]) } : r));
  expect(read(altered, ['batch-1-a-verification']).get('batch-1-a-verification')).toMatchObject({
    error: "the stored chunks do not match the manifest's sha256",
  });
  expect(read(records, ['batch-1-a-offsets']).size).toBe(0);
  expect(read(records, ['batch-1-a-verification'], 'demo2').size).toBe(0);
  // A tombstoned manifest: the report is gone.
  expect(read([...records, { key: 'demo/batch-1-a-verification', value: null }], ['batch-1-a-verification']).size).toBe(0);
});
