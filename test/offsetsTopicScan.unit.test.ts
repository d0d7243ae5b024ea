/** Keys of __consumer_offsets as Kafka's GroupMetadataManager writes them (offset commit v0/v1, group metadata v2). */
import { decodeOffsetCommitKey } from '../src/inventory/offsetsTopicScan';

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function key(version: number, ...parts: Buffer[]): Buffer {
  const v = Buffer.alloc(2);
  v.writeInt16BE(version);
  return Buffer.concat([v, ...parts]);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

test('offset commit keys (v0 and v1) give group, topic and partition', () => {
  expect(decodeOffsetCommitKey(key(0, str('mx-group'), str('orders'), int32(2)))).toEqual({ group: 'mx-group', topic: 'orders', partition: 2 });
  expect(decodeOffsetCommitKey(key(1, str('g'), str('tópico'), int32(0)))).toEqual({ group: 'g', topic: 'tópico', partition: 0 });
});

test('group metadata keys (v2), unknown versions, null and truncated keys are not offset commits', () => {
  expect(decodeOffsetCommitKey(key(2, str('mx-group')))).toBeUndefined();
  expect(decodeOffsetCommitKey(key(3, str('g'), str('t'), int32(0)))).toBeUndefined();
  expect(decodeOffsetCommitKey(null)).toBeUndefined();
  expect(decodeOffsetCommitKey(key(1, str('g'), str('t')))).toBeUndefined();
});
