/**
 * The report store on the real target (src/reports/reportStore.ts): a report larger than the topic's message size
 * is stored in several chunks and read back whole; a rewrite with fewer chunks reads back as the rewrite; the look's
 * activity pages what it returns under its budget; a report never stored is said to be missing.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { storedReportsLook, type StoredReportsPage } from '../src/activities/readOnly';
import { readStoredReports, REPORT_TOPIC, storeReport } from '../src/reports/reportStore';
import { stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';

const spec = stackSpec({ name: `rs-${uniqueSuffix()}` });
const paths = { jsonPath: '/w/a/x.json', markdownPath: '/w/a/x.md' };
// ~1.6 MB of base64 noise: gzip leaves ~1.2 MB, more than one record of the topic's ~1 MB limit.
const big = { markdown: `# big\n${randomBytes(1_200_000).toString('base64')}\n`, json: { ok: true, n: 1 } };
const small = { markdown: '# small\n', json: { ok: true, n: 2 } };

test('a report above max.message.bytes is chunked, and a rewrite with fewer chunks is what is read back', async () => {
  const first = await storeReport(spec, { fileStem: 'batch-1-x-verification', content: big, writtenBy: 'w-a@host-a', paths });
  expect(first.chunks).toBeGreaterThanOrEqual(3);
  expect(await readStoredReports(spec.target, spec.name, ['batch-1-x-verification'])).toEqual(
    new Map([['batch-1-x-verification', { manifest: first, content: big }]]),
  );

  const second = await storeReport(spec, { fileStem: 'batch-1-x-verification', content: small, writtenBy: 'w-b@host-b', paths });
  expect(second.chunks).toBe(1);
  const read = await readStoredReports(spec.target, spec.name, ['batch-1-x-verification', 'batch-1-x-offsets']);
  expect([...read.keys()]).toEqual(['batch-1-x-verification']);
  expect(read.get('batch-1-x-verification')).toEqual({ manifest: second, content: small });

  // The topic is compacted, one partition: a tool topic like the others.
  const admin = targetKafka().admin();
  await admin.connect();
  try {
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: REPORT_TOPIC, configNames: ['cleanup.policy'] }] });
    expect(configs.resources[0].configEntries[0].configValue).toBe('compact');
    expect((await admin.fetchTopicOffsets(REPORT_TOPIC)).length).toBe(1);
  } finally {
    await admin.disconnect();
  }
}, 120_000);

test('the look pages by size, and names a report the store does not have', async () => {
  await storeReport(spec, { fileStem: 'a', content: big, writtenBy: 'w-a@host-a', paths });
  await storeReport(spec, { fileStem: 'b', content: big, writtenBy: 'w-a@host-a', paths });
  const look = async (fileStems: string[]) =>
    JSON.parse(gunzipSync(await storedReportsLook({ target: spec.target, migration: spec.name, fileStems })).toString('utf8')) as StoredReportsPage;
  const page1 = await look(['a', 'b', 'never']);
  expect(page1.reports.map((r) => [r.fileStem, r.markdown === big.markdown, r.error])).toEqual([
    ['a', true, undefined],
    ['never', false, 'not in the report store on the target (never stored, or its worker could not reach the target)'],
  ]);
  expect(page1.rest).toEqual(['b']);
  const page2 = await look(page1.rest);
  expect(page2.reports.map((r) => [r.fileStem, r.json])).toEqual([['b', big.json]]);
  expect(page2.rest).toEqual([]);
}, 120_000);
