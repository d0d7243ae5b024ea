/**
 * Kafka over TLS against real brokers: the stack source's SSL (19095), mTLS (19096, ssl.client.auth=required,
 * the certificate's CN is the principal) and SASL_SSL (19097, a certificate that does not name 127.0.0.1)
 * listeners, and a Kafka 3.9 broker started here for SASL_SSL with SCRAM-SHA-256/512. Each connection is
 * checked by the connectivity probe and the preflight security check, then a real copy to the target. Bad TLS
 * input names the field, the file and what was expected.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { checkConnectivity, probeCluster } from '../src/activities/connectivity';
import { checkSecurity } from '../src/activities/preflight';
import { loadSpecFile } from '../src/config/loadSpec';
import { parseSpec, SpecError, type MigrationSpec, type MigrationSpecInput } from '../src/config/spec';
import { copyPartitionsUntil } from '../src/copy/copyPartitions';
import { createTopicsOnTarget } from '../src/copy/targetTopics';
import { createKafka } from '../src/kafka/clients';
import { toKafkaFailure } from '../src/kafka/errors';
import { STACK_DIR, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';
import { createSourceTopic, produceToSource, readPartition } from './helpers/copyFixtures';
import { SCRAM_PASSWORD, SCRAM_USER, startScramBroker, type ScramBroker } from './helpers/scramBroker';

const TLS = resolve(STACK_DIR, 'tls');
const STORE_PASSWORD_FILE = resolve(STACK_DIR, 'secrets/tls-store.password');
const MIGRATOR_PASSWORD_FILE = resolve(STACK_DIR, 'secrets/migrator.password');
const SSL = '127.0.0.1:19095';
const MTLS = '127.0.0.1:19096';
const SASL_SSL = '127.0.0.1:19097';
const dir = mkdtempSync(join(tmpdir(), 'km-kafka-tls-'));
const s = uniqueSuffix();

function specWith(name: string, source: MigrationSpecInput['source']): MigrationSpec {
  return parseSpec({ name: `tls-${name}-${s}`, source, target: { bootstrapServers: [TARGET_BOOTSTRAP], securityProtocol: 'PLAINTEXT' } });
}

const mtlsPem: MigrationSpecInput['source'] = {
  bootstrapServers: [MTLS],
  securityProtocol: 'SSL',
  tls: { ca: { file: join(TLS, 'ca.pem') }, cert: { file: join(TLS, 'client-migrator.pem') }, key: { file: join(TLS, 'client-migrator.key') } },
};

/** Connectivity probe + preflight security + a copy of a 2-partition topic; the target holds exactly the source's records. */
async function connectAndCopy(spec: MigrationSpec, produce: (topic: string) => Promise<void>, readSource: (topic: string, p: number) => Promise<unknown[]>) {
  const probe = await probeCluster(spec.source, 'source');
  expect(probe.securityProtocol).toBe(spec.source.securityProtocol);
  const security = await checkSecurity({ spec });
  expect({ verdict: security.verdict, summary: security.summary }).toEqual({
    verdict: 'pass',
    summary: expect.stringContaining(`source over ${spec.source.securityProtocol}`),
  });
  const topic = spec.name;
  await produce(topic);
  await createTopicsOnTarget(spec, spec.name, [topic]);
  const progress = await copyPartitionsUntil({
    source: spec.source,
    target: spec.target,
    migration: spec.name,
    partitions: [0, 1].map((partition) => ({ topic, partition })),
    stopAt: { [`${topic}:0`]: 60, [`${topic}:1`]: 60 },
  });
  expect(progress).toHaveLength(2);
  for (const p of [0, 1]) {
    const target = await readPartition('target', topic, p, { committed: false });
    const source = await readSource(topic, p);
    expect(target.map((r) => r.value?.toString())).toEqual(source);
  }
}

const records = (topic: string) => Array.from({ length: 120 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `${topic}-v${i}` }));
const expectedValues = (topic: string, p: number) =>
  records(topic)
    .filter((r) => r.partition === p)
    .map((r) => r.value);

async function stackTopic(topic: string) {
  await createSourceTopic(topic, 2);
  await produceToSource(topic, records(topic));
}
const stackValues = async (topic: string, p: number) => expectedValues(topic, p);

describe('the stack source over TLS', () => {
  test('SSL with a CA file (PEM): probe, preflight and a copy', async () => {
    await connectAndCopy(
      specWith('ssl', { bootstrapServers: [SSL], securityProtocol: 'SSL', tls: { ca: { file: join(TLS, 'ca.pem') } } }),
      stackTopic,
      stackValues,
    );
  });

  test('mTLS with a client certificate and key (PEM): the certificate is the principal (User:migrator, read-only ACLs)', async () => {
    await connectAndCopy(specWith('mtls', mtlsPem), stackTopic, stackValues);
  });

  test('mTLS from a Kafka .properties file with PKCS12 trust and key stores; passwords stay in the file', async () => {
    const props = join(dir, 'mtls.properties');
    const password = readFileSync(STORE_PASSWORD_FILE, 'utf8').trim();
    writeFileSync(
      props,
      [
        `bootstrap.servers=${MTLS}`,
        'security.protocol=SSL',
        `ssl.truststore.location=${join(TLS, 'truststore.p12')}`,
        'ssl.truststore.type=PKCS12',
        `ssl.truststore.password=${password}`,
        `ssl.keystore.location=${join(TLS, 'client-migrator.p12')}`,
        'ssl.keystore.type=PKCS12',
        `ssl.keystore.password=${password}`,
        `ssl.key.password=${password}`,
      ].join('\n'),
    );
    const specFile = join(dir, 'mtls-props.json');
    writeFileSync(
      specFile,
      JSON.stringify({
        name: `tls-props-${s}`,
        source: { propertiesFile: props },
        target: { bootstrapServers: [TARGET_BOOTSTRAP], securityProtocol: 'PLAINTEXT' },
      }),
    );
    const spec = loadSpecFile(specFile);
    expect(spec.source.tls).toEqual({
      truststore: { file: join(TLS, 'truststore.p12'), type: 'PKCS12', password: { propertiesFile: props, property: 'ssl.truststore.password' } },
      keystore: {
        file: join(TLS, 'client-migrator.p12'),
        type: 'PKCS12',
        password: { propertiesFile: props, property: 'ssl.keystore.password' },
        keyPassword: { propertiesFile: props, property: 'ssl.key.password' },
      },
      verifyHostname: true,
    });
    expect(JSON.stringify(spec)).not.toContain(password);
    await connectAndCopy(spec, stackTopic, stackValues);
  });

  test('SASL_SSL (PLAIN) to a broker whose certificate does not name its address: refused, then accepted with verifyHostname: false', async () => {
    const source = {
      bootstrapServers: [SASL_SSL],
      securityProtocol: 'SASL_SSL' as const,
      sasl: { mechanism: 'PLAIN' as const, username: 'migrator', password: { file: MIGRATOR_PASSWORD_FILE } },
      tls: { ca: { file: join(TLS, 'ca.pem') } },
    };
    const strict = specWith('hostname', source);
    const refused = await probeCluster(strict.source, 'source').catch((e: Error) => e);
    expect((refused as Error).message).toMatch(
      /^checkConnectivity: source cluster 127\.0\.0\.1:19097 over SASL_SSL as user "migrator" \(PLAIN\): the source broker's TLS certificate does not name the address it was reached at \(.*127\.0\.0\.1.*\); expected a certificate for that address, or set source\.tls\.verifyHostname: false/,
    );
    expect((refused as { nonRetryable?: boolean }).nonRetryable).toBe(true);
    await connectAndCopy(specWith('noverify', { ...source, tls: { ...source.tls, verifyHostname: false } }), stackTopic, stackValues);
  });

  test('mTLS listener without a client certificate, or with a wrong CA: the error says which setting to fix', async () => {
    const noCert = specWith('nocert', { bootstrapServers: [MTLS], securityProtocol: 'SSL', tls: { ca: { file: join(TLS, 'ca.pem') } } });
    const security = await checkSecurity({ spec: noCert });
    expect(security.verdict).toBe('fail');
    expect(security.summary).toContain(
      'the source broker requires a client certificate (mTLS, ssl.client.auth=required) and none is configured; expected source.tls.cert and source.tls.key, or source.tls.keystore',
    );
    expect(security.remediation).toContain('fix the source.tls setting named in the error');

    // A CA of its own (made here with openssl) did not sign the broker's certificate.
    const otherCa = join(dir, 'other-ca.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=other CA', '-keyout', join(dir, 'other-ca.key'), '-out', otherCa],
      {
        stdio: 'ignore',
      },
    );
    const wrongCa = specWith('wrongca', { ...mtlsPem, tls: { ...mtlsPem.tls, ca: { file: otherCa } } });
    const failure = await probeCluster(wrongCa.source, 'source').catch((e: Error) => e);
    expect((failure as Error).message).toMatch(
      /source broker's TLS certificate was refused \(its certificate is not signed by a trusted CA: .+\); expected source\.tls\.ca to hold the CA certificate that signed the brokers' certificates/,
    );
  });

  test('the automq profile takes PLAINTEXT only on the target; any protocol on the source', async () => {
    const spec = parseSpec({
      name: `tls-automq-${s}`,
      source: mtlsPem,
      target: { bootstrapServers: [SSL], securityProtocol: 'SSL', tls: { ca: { file: join(TLS, 'ca.pem') } }, profile: 'automq' },
    });
    await expect(checkConnectivity({ source: spec.source, target: spec.target })).rejects.toThrow(
      /^checkConnectivity: target\.securityProtocol SSL is not accepted by the automq profile \(expected PLAINTEXT\)/,
    );
    const security = await checkSecurity({ spec });
    expect(security.verdict).toBe('fail');
    expect(security.summary).toBe('the target is configured with SSL, but the automq profile accepts PLAINTEXT');
  });
});

describe('SCRAM over SASL_SSL (a Kafka 3.9 broker started by this test)', () => {
  let broker: ScramBroker;
  beforeAll(async () => {
    broker = await startScramBroker();
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
  });

  const scramSource = (mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', passwordEnv = 'KM_TEST_SCRAM_PASSWORD'): MigrationSpecInput['source'] => ({
    bootstrapServers: [broker.saslSslBootstrap],
    securityProtocol: 'SASL_SSL',
    sasl: { mechanism, username: SCRAM_USER, password: { env: passwordEnv } },
    tls: { ca: { file: join(TLS, 'ca.pem') } },
  });
  const setup = () => new Kafka({ clientId: 'km-test-scram-setup', brokers: [broker.plaintextBootstrap], logLevel: logLevel.NOTHING });

  test('SCRAM-SHA-512: probe, preflight and a copy; SCRAM-SHA-256 authenticates too; a wrong password is a clear authentication failure', async () => {
    process.env.KM_TEST_SCRAM_PASSWORD = SCRAM_PASSWORD;
    const produce = async (topic: string) => {
      const admin = setup().admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
      await admin.disconnect();
      const producer = setup().producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: records(topic).map((r) => ({ ...r })) });
      await producer.disconnect();
    };
    await connectAndCopy(specWith('scram512', scramSource('SCRAM-SHA-512')), produce, stackValues);

    const sha256 = await probeCluster(specWith('scram256', scramSource('SCRAM-SHA-256')).source, 'source');
    expect(sha256.user).toBe(SCRAM_USER);

    process.env.KM_TEST_SCRAM_WRONG = 'not-the-password';
    const wrong = specWith('scramwrong', scramSource('SCRAM-SHA-512', 'KM_TEST_SCRAM_WRONG'));
    const security = await checkSecurity({ spec: wrong });
    expect(security.verdict).toBe('fail');
    expect(security.summary).toMatch(
      /the source credentials do not work on the source cluster 127\.0\.0\.1:\d+ over SASL_SSL as user "scram-migrator" \(SCRAM-SHA-512\)/,
    );
    expect(JSON.stringify(security)).not.toContain('not-the-password');
  });
});

describe('bad TLS input names the field, the file and what was expected', () => {
  const errorOf = (spec: MigrationSpec) =>
    (async () => {
      try {
        createKafka(spec.source, 'source');
        return undefined;
      } catch (e) {
        return toKafkaFailure(e, spec.source, 'source', 'checkConnectivity') as Error & { type?: string; nonRetryable?: boolean };
      }
    })();

  test('a missing CA file', async () => {
    const e = await errorOf(specWith('noca', { bootstrapServers: [SSL], securityProtocol: 'SSL', tls: { ca: { file: join(dir, 'missing-ca.pem') } } }));
    expect(e?.message).toBe(
      `checkConnectivity: source.tls.ca: cannot read file ${join(dir, 'missing-ca.pem')} on the worker ${process.pid}@${hostname()} (ENOENT)`,
    );
    expect(e?.nonRetryable).toBe(true);
  });

  test('a CA file that is not PEM, and a key that does not belong to the certificate', async () => {
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const notPem = await errorOf(specWith('garbage', { bootstrapServers: [SSL], securityProtocol: 'SSL', tls: { ca: { file: garbage } } }));
    expect(notPem?.message).toBe(`checkConnectivity: source.tls.ca: file ${garbage} holds no certificate; expected PEM ("-----BEGIN CERTIFICATE-----")`);
    const mismatch = await errorOf(specWith('mismatch', { ...mtlsPem, tls: { ...mtlsPem.tls, key: { file: join(TLS, 'source-broker.key') } } }));
    expect(mismatch?.message).toBe(
      `checkConnectivity: source.tls.key: the private key in file ${join(TLS, 'source-broker.key')} does not belong to the client certificate (CN=migrator)`,
    );
  });

  test('a JKS store: refused with the keytool command that converts it', async () => {
    const jks = join(dir, 'truststore.jks');
    execFileSync(
      'keytool',
      ['-importcert', '-noprompt', '-alias', 'ca', '-file', join(TLS, 'ca.pem'), '-keystore', jks, '-storetype', 'JKS', '-storepass', 'changeit'],
      {
        stdio: 'ignore',
      },
    );
    // Named as PKCS12 (or not typed at all), the file's first bytes give it away.
    const e = await errorOf(
      specWith('jks', { bootstrapServers: [SSL], securityProtocol: 'SSL', tls: { truststore: { file: jks, password: { file: STORE_PASSWORD_FILE } } } }),
    );
    expect(e?.message).toBe(
      `checkConnectivity: source.tls.truststore: ${jks} is a Java KeyStore (JKS), which kafka-migrate cannot read; convert it to PKCS12 with keytool -importkeystore -srckeystore ${jks} -srcstoretype JKS -destkeystore ${join(dir, 'truststore')}.p12 -deststoretype PKCS12 and point source.tls.truststore at the .p12 file (type PKCS12, same password)`,
    );
    // Declared JKS in a properties file: the spec itself is refused before anything runs.
    const props = join(dir, 'jks.properties');
    writeFileSync(
      props,
      [
        `bootstrap.servers=${SSL}`,
        'security.protocol=SSL',
        `ssl.truststore.location=${jks}`,
        'ssl.truststore.type=JKS',
        'ssl.truststore.password=changeit',
      ].join('\n'),
    );
    const specFile = join(dir, 'jks.json');
    writeFileSync(specFile, JSON.stringify({ name: 'jks', source: { propertiesFile: props }, target: { bootstrapServers: [TARGET_BOOTSTRAP] } }));
    expect(() => loadSpecFile(specFile)).toThrow(SpecError);
    expect(() => loadSpecFile(specFile)).toThrow(
      `source.tls.truststore.type: JKS stores cannot be read; convert it to PKCS12: keytool -importkeystore -srckeystore ${jks} -srcstoretype JKS -destkeystore ${join(dir, 'truststore')}.p12 -deststoretype PKCS12`,
    );
  });

  test('store password references: one that is not set, one that is wrong, one given inline', async () => {
    const store = (password: unknown) =>
      specWith('storepw', {
        bootstrapServers: [MTLS],
        securityProtocol: 'SSL',
        tls: { ca: { file: join(TLS, 'ca.pem') }, keystore: { file: join(TLS, 'client-migrator.p12'), password } },
      } as never);
    delete process.env.KM_TEST_UNSET_STORE_PASSWORD;
    const unset = await errorOf(store({ env: 'KM_TEST_UNSET_STORE_PASSWORD' }));
    expect(unset?.message).toMatch(
      /^checkConnectivity: source\.tls\.keystore\.password: environment variable KM_TEST_UNSET_STORE_PASSWORD is not set on the worker /,
    );
    const wrongFile = join(dir, 'wrong.password');
    writeFileSync(wrongFile, 'wrong-store-password');
    const wrong = await errorOf(store({ file: wrongFile }));
    expect(wrong?.message).toBe(
      `checkConnectivity: source.tls.keystore.password: it does not open ${join(TLS, 'client-migrator.p12')} (PKCS12 integrity check failed); expected the store's password`,
    );
    expect(() => store('store-secret')).toThrow(
      'source.tls.keystore.password: expected a reference { env: VAR } or { file: PATH } to the store password, not an inline value (secrets must never be part of the spec)',
    );
    expect(() => store('store-secret')).not.toThrow(/store-secret/);
  });

  test('tls settings under a PLAINTEXT protocol, and a certificate without its key, are refused by the spec', () => {
    expect(() => specWith('plain', { bootstrapServers: [SSL], securityProtocol: 'PLAINTEXT', tls: { ca: { file: 'ca.pem' } } })).toThrow(
      'source.tls: expected securityProtocol SSL or SASL_SSL with tls settings, not PLAINTEXT',
    );
    expect(() => specWith('nokey', { bootstrapServers: [SSL], securityProtocol: 'SSL', tls: { cert: { file: 'c.pem' } } })).toThrow(
      'source.tls.key: expected the private key of tls.cert (a reference to a PEM key file)',
    );
  });

  test('a relative TLS file is looked up in the worker secrets directory', async () => {
    const secrets = mkdtempSync(join(tmpdir(), 'km-tls-secrets-'));
    copyFileSync(join(TLS, 'ca.pem'), join(secrets, 'ca.pem'));
    const before = process.env.KM_SECRETS_DIR;
    process.env.KM_SECRETS_DIR = secrets;
    try {
      expect(await errorOf(specWith('relca', { bootstrapServers: [SSL], securityProtocol: 'SSL', tls: { ca: { file: 'ca.pem' } } }))).toBeUndefined();
      const missing = await errorOf(specWith('relmissing', { bootstrapServers: [SSL], securityProtocol: 'SSL', tls: { truststore: { file: 'nope.p12' } } }));
      expect(missing?.message).toBe(
        `checkConnectivity: source.tls.truststore.file: cannot read ${join(secrets, 'nope.p12')} (ENOENT); expected a PKCS12 or PEM store`,
      );
    } finally {
      if (before === undefined) delete process.env.KM_SECRETS_DIR;
      else process.env.KM_SECRETS_DIR = before;
    }
  });
});
