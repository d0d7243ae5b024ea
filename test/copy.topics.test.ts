/** Target topics: configs filtered by the profile, existingTopicPolicy, retries, partitions added later. */
import { ConfigResourceTypes } from 'kafkajs';
import { createTopicsOnTarget, syncPartitionCountsOnTarget } from '../src/copy/targetTopics';
import { NonRetryableCopyError } from '../src/copy/copyErrors';
import { sourceAdminKafka, stackSpec, targetKafka, uniqueSuffix } from './helpers/stack';
import { createSourceTopic } from './helpers/copyFixtures';

async function targetTopic(topic: string): Promise<{ partitions: number; configs: Record<string, string> }> {
  const admin = targetKafka().admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
    const configs = Object.fromEntries(
      cfg.resources[0].configEntries.filter((e) => (e as unknown as { configSource: number }).configSource === 1).map((e) => [e.configName, e.configValue]),
    );
    return { partitions: meta.topics[0].partitions.length, configs };
  } finally {
    await admin.disconnect();
  }
}

test("creates topics with the source partitions and non-default configs minus the profile's unsupported ones; a retry recognises its own topics", async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({ name: `topics-${s}` });
  const topic = `topics-${s}`;
  const lat = `topics-lat-${s}`;
  await createSourceTopic(topic, 3, { 'retention.ms': '123456789', 'message.downconversion.enable': 'false', 'max.message.bytes': '2000000' });
  await createSourceTopic(lat, 1, { 'message.timestamp.type': 'LogAppendTime' });
  const report = await createTopicsOnTarget(spec, spec.name, [topic, lat]);
  expect(report.topics[0]).toMatchObject({
    topic,
    action: 'created',
    partitions: 3,
    replicationFactor: null,
    configs: { 'retention.ms': '123456789', 'max.message.bytes': '2000000' },
    droppedConfigs: [{ name: 'message.downconversion.enable', value: 'false' }],
    timestampType: 'CreateTime',
  });
  expect(report.topics[1]).toMatchObject({ topic: lat, timestampType: 'LogAppendTime', warnings: [expect.stringMatching(/LogAppendTime/)] });
  expect(await targetTopic(topic)).toEqual({ partitions: 3, configs: { 'retention.ms': '123456789', 'max.message.bytes': '2000000' } });

  // An activity retry (same migration): the topics are ours, not "existing".
  const again = await createTopicsOnTarget(spec, spec.name, [topic, lat]);
  expect(again.topics.map((t) => t.action)).toEqual(['owned', 'owned']);

  // Another migration meets them as existing topics: policy 'fail' names the topic and the fix.
  const other = stackSpec({ name: `topics-other-${s}` });
  const err = await createTopicsOnTarget(other, other.name, [topic]).catch((e) => e);
  expect(err).toBeInstanceOf(NonRetryableCopyError);
  expect(err.message).toMatch(new RegExp(`target topic ${topic} already exists \\(3 partitions\\) and target.existingTopicPolicy is 'fail'`));

  // Partitions added on the source later are added on the target.
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
  await admin.disconnect();
  expect(await syncPartitionCountsOnTarget(spec, [topic])).toEqual([{ topic, sourcePartitions: 5, targetPartitionsBefore: 3, targetPartitions: 5 }]);
  expect((await targetTopic(topic)).partitions).toBe(5);
  expect(await syncPartitionCountsOnTarget(spec, [topic])).toEqual([]);
});

test('adopt-if-empty adopts an empty topic with the same partition count and refuses a non-empty or different one', async () => {
  const s = uniqueSuffix();
  const spec = stackSpec({
    name: `adopt-${s}`,
    target: { bootstrapServers: [process.env.TARGET_BOOTSTRAP ?? '127.0.0.1:29092'], existingTopicPolicy: 'adopt-if-empty' },
  });
  const [empty, full, wrong] = ['empty', 'full', 'wrong'].map((n) => `adopt-${n}-${s}`);
  for (const t of [empty, full, wrong]) await createSourceTopic(t, 2);
  const admin = targetKafka().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: empty, numPartitions: 2 },
      { topic: full, numPartitions: 2 },
      { topic: wrong, numPartitions: 3 },
    ],
  });
  await admin.disconnect();
  const producer = targetKafka().producer();
  await producer.connect();
  await producer.send({ topic: full, messages: [{ partition: 1, value: 'already here' }] });
  await producer.disconnect();

  const report = await createTopicsOnTarget(spec, spec.name, [empty]);
  expect(report.topics[0]).toMatchObject({ topic: empty, action: 'adopted', partitions: 2 });
  expect((await createTopicsOnTarget(spec, spec.name, [empty])).topics[0].action).toBe('owned');
  await expect(createTopicsOnTarget(spec, spec.name, [full])).rejects.toThrow(new RegExp(`target topic ${full} already exists and holds 1 records`));
  await expect(createTopicsOnTarget(spec, spec.name, [wrong])).rejects.toThrow(
    new RegExp(`target topic ${wrong} already exists with 3 partitions, the source has 2`),
  );
});
