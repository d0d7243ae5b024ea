/**
 * Kafka 0.9/0.10 sources, without a broker: the fallback version table (what kafkajs uses with a broker that answers no
 * ApiVersions) is 0.9.0's and covers what the source side needs; the 0.10.2 answer lacks only the optional APIs; a
 * missing API is recognised whichever way kafkajs reports it. The real brokers: see the issue-12 report / matrix tests.
 */
import { KAFKA_0_9_0_VERSIONS } from '../src/copy/kafkaInternals';
import { KAFKA_0_9_APIS, KAFKA_0_9_GUESS, API, inferKafkaVersion } from '../src/kafka/kafkaVersion';
import { missingApis, SOURCE_OPTIONAL_APIS, SOURCE_REQUIRED_APIS, judgeRange } from '../src/activities/preflight/checkVersions';
import { isUnsupportedApi, unlessUnsupported } from '../src/kafka/optionalApis';
import type { ApiVersionTable } from '../src/kafka/apiVersions';

/** What a 0.10.2.2 broker answers to ApiVersions (client APIs). */
const KAFKA_0_10_2: ApiVersionTable = {
  0: [0, 2], 1: [0, 3], 2: [0, 1], 3: [0, 2], 8: [0, 2], 9: [0, 2], 10: [0, 0], 11: [0, 1], 12: [0, 0], 13: [0, 0], 14: [0, 0], 15: [0, 0], 16: [0, 0],
  17: [0, 0], 18: [0, 0], 19: [0, 1], 20: [0, 0],
}; // prettier-ignore

test("0.9.0's table: librdkafka's broker.version.fallback=0.9.0, the same in kafkajs' shape, enough for the source side", () => {
  expect(KAFKA_0_9_APIS[API.Fetch]).toEqual([0, 1]);
  expect(KAFKA_0_9_APIS[API.OffsetCommit]).toEqual([0, 2]);
  expect(KAFKA_0_9_APIS[API.OffsetFetch]).toEqual([0, 1]);
  expect(KAFKA_0_9_APIS[API.ApiVersions]).toBeUndefined();
  expect(Object.keys(KAFKA_0_9_0_VERSIONS).sort()).toEqual(Object.keys(KAFKA_0_9_APIS).sort());
  expect(KAFKA_0_9_0_VERSIONS[API.Produce]).toEqual({ minVersion: 0, maxVersion: 1 });
  expect(missingApis(KAFKA_0_9_APIS, SOURCE_REQUIRED_APIS)).toEqual([]);
  expect(SOURCE_OPTIONAL_APIS.map((o) => missingApis(KAFKA_0_9_APIS, [o.api])[0])).toEqual(['DescribeConfigs v0+', 'DescribeAcls v0+']);
  expect(judgeRange(KAFKA_0_9_GUESS, { min: '0.9', max: '3.4' })).toBe('pass');
});

test('0.10.2: inside the range, all required APIs, only DescribeConfigs/DescribeAcls missing', () => {
  const guess = inferKafkaVersion(KAFKA_0_10_2);
  expect(guess.label).toBe('0.10.2');
  expect(judgeRange(guess, { min: '0.9', max: '3.4' })).toBe('pass');
  expect(missingApis(KAFKA_0_10_2, SOURCE_REQUIRED_APIS)).toEqual([]);
  expect(SOURCE_OPTIONAL_APIS.map((o) => missingApis(KAFKA_0_10_2, [o.api]).length)).toEqual([1, 1]);
});

test('a missing API is recognised (kafkajs UNSUPPORTED_VERSION, or no controller in Metadata v0) and only then fallen back from', async () => {
  const unsupported = Object.assign(new Error('The Kafka server does not support the requested API version'), { type: 'UNSUPPORTED_VERSION' });
  const noController = Object.assign(new Error('Topic metadata not loaded'), { name: 'KafkaJSMetadataNotLoaded' });
  expect(isUnsupportedApi(unsupported)).toBe(true);
  expect(isUnsupportedApi(noController)).toBe(true);
  expect(isUnsupportedApi(Object.assign(new Error('wrapped'), { cause: unsupported }))).toBe(true);
  expect(isUnsupportedApi(Object.assign(new Error('denied'), { type: 'TOPIC_AUTHORIZATION_FAILED' }))).toBe(false);
  await expect(unlessUnsupported(() => Promise.reject(unsupported), 'fallback')).resolves.toBe('fallback');
  await expect(unlessUnsupported(() => Promise.reject(new Error('boom')), 'fallback')).rejects.toThrow('boom');
});
