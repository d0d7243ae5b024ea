/**
 * A target that is the source cluster itself is refused: by checkConnectivity (the workflow's first activity,
 * non-retryable InvalidConfiguration) and by the preflight's target-state check (verdict fail), both naming
 * the cluster id and the bootstrap lists. The real stack's source is used as the "target" through its SASL
 * listener (the migrator's own credentials) and its PLAINTEXT listener.
 */
import { ApplicationFailure } from '@temporalio/common';
import { checkConnectivity } from '../src/activities/connectivity';
import { checkTargetState } from '../src/activities/preflight';
import type { MigrationSpec } from '../src/config/spec';
import { sameClusterFault } from '../src/kafka/sameCluster';
import { createTopicsReady } from '../src/kafka/topicsReady';
import {
  MIGRATOR_PASSWORD_FILE,
  SOURCE_ADMIN_BOOTSTRAP,
  SOURCE_SASL_BOOTSTRAP,
  sourceAdminKafka,
  stackSpec,
  TARGET_BOOTSTRAP,
  uniqueSuffix,
} from './helpers/stack';

const name = `same-${uniqueSuffix()}`;
const topic = `${name}.orders`;
let sourceClusterId = '';

beforeAll(async () => {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  try {
    // An empty in-scope topic: with adopt-if-empty it used to be "already there, empty: will be adopted" (a warn).
    await createTopicsReady(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    sourceClusterId = (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect();
  }
});

afterAll(async () => {
  const admin = sourceAdminKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

/** The stack spec with the target replaced by one of the source's own listeners. */
function specWithTarget(target: 'sasl' | 'plaintext'): MigrationSpec {
  const spec = stackSpec({ name, scope: { topics: [`${name}\\..*`] } });
  spec.target.existingTopicPolicy = 'adopt-if-empty';
  if (target === 'sasl') {
    spec.target.profile = 'kafka'; // the automq profile would refuse SASL on the target before connecting
    spec.target.bootstrapServers = [SOURCE_SASL_BOOTSTRAP];
    spec.target.securityProtocol = 'SASL_PLAINTEXT';
    spec.target.sasl = { mechanism: 'PLAIN', username: 'migrator', password: { file: MIGRATOR_PASSWORD_FILE } };
  } else {
    // localhost instead of 127.0.0.1: another spelling of the same listener
    spec.target.bootstrapServers = [SOURCE_ADMIN_BOOTSTRAP.replace('127.0.0.1', 'localhost')];
  }
  return spec;
}

test('control: the stack target is another cluster, and target-state does not call it the source', async () => {
  const spec = stackSpec({ name, scope: { topics: [`${name}\\..*`] } });
  const r = await checkTargetState({ spec });
  expect(r.summary).not.toMatch(/the target is the source|shares broker addresses/);
  expect((r.evidence.clusterIds as { source: string; target: string }).source).toBe(sourceClusterId);
  expect((r.evidence.clusterIds as { source: string; target: string }).target).not.toBe(sourceClusterId);
  const c = await checkConnectivity({ source: spec.source, target: spec.target });
  expect(c.source.clusterId).not.toBe(c.target.clusterId);
});

test.each(['sasl', 'plaintext'] as const)('target-state fails when the target is the source (its %s listener), naming the cluster id', async (listener) => {
  const spec = specWithTarget(listener);
  const r = await checkTargetState({ spec });
  expect(r.verdict).toBe('fail');
  expect(r.summary).toBe(
    `the target is the source cluster: both answer with cluster id ${sourceClusterId} (source.bootstrapServers ${SOURCE_SASL_BOOTSTRAP}, target.bootstrapServers ${spec.target.bootstrapServers.join(',')}); expected two different clusters: point target.bootstrapServers at the AutoMQ (or other) cluster the data should move to`,
  );
  expect(r.summary).not.toContain('will be adopted');
  expect(r.remediation).toBe('set target.bootstrapServers to the brokers of the cluster to migrate to');
  expect(r.evidence.clusterIds).toEqual({ source: sourceClusterId, target: sourceClusterId });
});

test.each(['sasl', 'plaintext'] as const)(
  'checkConnectivity refuses the source as target (%s listener): non-retryable InvalidConfiguration',
  async (listener) => {
    const spec = specWithTarget(listener);
    const err: unknown = await checkConnectivity({ source: spec.source, target: spec.target }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('InvalidConfiguration');
    expect(failure.message).toBe(
      `checkConnectivity: the target is the source cluster: both answer with cluster id ${sourceClusterId} (source.bootstrapServers ${SOURCE_SASL_BOOTSTRAP}, target.bootstrapServers ${spec.target.bootstrapServers.join(',')}); expected two different clusters: point target.bootstrapServers at the AutoMQ (or other) cluster the data should move to`,
    );
    expect(failure.message).not.toContain('secret'); // the password file's content never appears
  },
);

describe('sameClusterFault (pure)', () => {
  const source = {
    clusterId: 'src-id',
    bootstrapServers: ['Kafka-1.Example.com:9092', '127.0.0.1:19093'],
    brokers: [
      { host: 'kafka-1.example.com', port: 9092 },
      { host: 'broker-2.internal', port: 9094 },
    ],
  };

  test('two clusters on distinct addresses are accepted', () => {
    expect(
      sameClusterFault(source, { clusterId: 'dst-id', bootstrapServers: [TARGET_BOOTSTRAP], brokers: [{ host: '127.0.0.1', port: 29092 }] }),
    ).toBeUndefined();
  });

  test('a shared bootstrap address fails, whatever the host case; localhost is 127.0.0.1', () => {
    const fault = sameClusterFault(source, { clusterId: 'dst-id', bootstrapServers: ['KAFKA-1.example.com:9092', 'localhost:19093'], brokers: [] });
    expect(fault).toBe(
      'the target shares broker addresses with the source: bootstrap KAFKA-1.example.com:9092 (source: bootstrap Kafka-1.Example.com:9092), bootstrap localhost:19093 (source: bootstrap 127.0.0.1:19093) (source.bootstrapServers Kafka-1.Example.com:9092,127.0.0.1:19093, target.bootstrapServers KAFKA-1.example.com:9092,localhost:19093; cluster ids src-id and dst-id); expected two clusters on distinct addresses: point target.bootstrapServers at the AutoMQ (or other) cluster the data should move to',
    );
  });

  test('an advertised broker of the target that the source also advertises fails', () => {
    const fault = sameClusterFault(source, {
      clusterId: 'dst-id',
      bootstrapServers: ['lb.example.com:9092'],
      brokers: [{ host: 'BROKER-2.internal', port: 9094 }],
    });
    expect(fault).toMatch(
      /^the target shares broker addresses with the source: advertised broker BROKER-2\.internal:9094 \(source: advertised broker broker-2\.internal:9094\)/,
    );
  });

  test('the same port on different hosts is not an overlap', () => {
    expect(
      sameClusterFault(source, { clusterId: 'dst-id', bootstrapServers: ['kafka-2.example.com:9092'], brokers: [{ host: '10.0.0.5', port: 19093 }] }),
    ).toBeUndefined();
  });
});
