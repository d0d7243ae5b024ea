/** ApiVersions probe (raw protocol) and release inference: real brokers, synthetic tables, failures. */
import { createServer, type Server, type Socket } from 'node:net';
import { ApiVersionsProbeError, inferKafkaVersion, probeApiVersions, type ApiVersionTable } from '../src/kafka/apiVersions';
import { judgeRange, missingApis, TARGET_REQUIRED_APIS } from '../src/activities/preflight/checkVersions';
import { SOURCE_SASL_BOOTSTRAP, TARGET_BOOTSTRAP } from './helpers/stack';

const hostPort = (hp: string) => {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i), Number(hp.slice(i + 1))] as const;
};

/** Client-listener tables of real releases (max versions of the keys that matter), ZooKeeper mode. */
const T: Record<string, ApiVersionTable> = {
  '0.10.0': { 0: [0, 2], 1: [0, 2], 2: [0, 0], 3: [0, 1], 8: [0, 2], 9: [0, 1], 10: [0, 0], 11: [0, 0], 16: [0, 0], 18: [0, 0] },
  '0.10.2': { 0: [0, 2], 1: [0, 3], 2: [0, 1], 3: [0, 2], 9: [0, 2], 18: [0, 0], 19: [0, 1] },
  '0.11': { 0: [0, 3], 1: [0, 5], 2: [0, 2], 3: [0, 4], 19: [0, 2], 18: [0, 1], 29: [0, 0] },
  '2.0': { 0: [0, 6], 1: [0, 8], 2: [0, 3], 3: [0, 6], 11: [0, 3], 16: [0, 2], 19: [0, 3], 29: [0, 1] },
  '2.8': { 0: [0, 9], 1: [0, 12], 2: [0, 6], 3: [0, 11], 11: [0, 7], 16: [0, 4], 19: [0, 7], 24: [0, 3], 29: [0, 2], 60: [0, 0] },
  '3.3': { 0: [0, 9], 1: [0, 13], 2: [0, 7], 3: [0, 12], 4: [0, 6], 11: [0, 9], 16: [0, 4], 19: [0, 7], 24: [0, 3], 29: [0, 3] },
  '3.4': { 0: [0, 9], 1: [0, 13], 2: [0, 7], 3: [0, 12], 4: [0, 7], 11: [0, 9], 16: [0, 4], 19: [0, 7], 24: [0, 3], 29: [0, 3] },
  '3.6': { 0: [0, 9], 1: [0, 15], 2: [0, 8], 3: [0, 12], 11: [0, 9], 16: [0, 4], 19: [0, 7], 24: [0, 4], 29: [0, 3] },
  '4.0': { 0: [0, 12], 1: [4, 17], 2: [1, 10], 3: [0, 13], 11: [2, 9], 16: [0, 5], 19: [2, 7], 24: [0, 5], 29: [1, 3] },
};
const withoutKey = (t: ApiVersionTable, key: number) => Object.fromEntries(Object.entries(t).filter(([k]) => Number(k) !== key)) as ApiVersionTable;

describe('inferKafkaVersion on real brokers', () => {
  test('the source says 3.4 (KRaft: metadata.version 8) over its SASL listener, before authentication', async () => {
    const [host, port] = hostPort(SOURCE_SASL_BOOTSTRAP);
    const probe = await probeApiVersions(host, port, { timeoutMs: 5000 });
    expect(probe.apis[18]).toEqual([0, 3]);
    expect(probe.supportedFeatures?.['metadata.version']?.[1]).toBe(8);
    expect(inferKafkaVersion(probe.apis, probe.supportedFeatures)).toMatchObject({ min: '3.4', max: '3.4', label: '3.4' });
    // The API table alone cannot tell 3.3 from 3.4, and says so.
    expect(inferKafkaVersion(probe.apis)).toMatchObject({ min: '3.3', max: '3.4', label: '3.3–3.4' });
    expect(probe.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('the target says 3.9 and offers every API the migration needs', async () => {
    const [host, port] = hostPort(TARGET_BOOTSTRAP);
    const probe = await probeApiVersions(host, port);
    expect(inferKafkaVersion(probe.apis, probe.supportedFeatures)).toMatchObject({ min: '3.9', max: '3.9', label: '3.9' });
    expect(inferKafkaVersion(probe.apis).label).toBe('3.9');
    expect(missingApis(probe.apis, TARGET_REQUIRED_APIS)).toEqual([]);
  });
});

describe('inferKafkaVersion on synthetic tables', () => {
  test.each(Object.entries(T))('%s', (release, table) => {
    expect(inferKafkaVersion(table).label).toBe(release === '0.10.2' ? '0.10.2' : release);
  });

  test('KRaft 3.3 and 3.4 are told apart by metadata.version only', () => {
    const kraft = withoutKey(T['3.4'], 4);
    expect(inferKafkaVersion(kraft).label).toBe('3.3–3.4');
    expect(inferKafkaVersion(kraft, { 'metadata.version': [1, 7] }).label).toBe('3.3');
    expect(inferKafkaVersion(kraft, { 'metadata.version': [1, 8] }).label).toBe('3.4');
  });

  test('an API beyond the newest known release reads as a newer release', () => {
    const g = inferKafkaVersion({ ...T['4.0'], 0: [3, 13] });
    expect(g).toMatchObject({ min: '4.1', max: '4.1', label: '4.1 or newer' });
    expect(g.basis.join()).toContain('Produce v13');
  });

  test('an empty table (no ApiVersions entry) is older than 0.10', () => {
    expect(inferKafkaVersion({}).label).toBe('0.9 or older');
  });

  test('judgeRange compares on major.minor against the profile range', () => {
    const range = { min: '0.9', max: '3.4' };
    expect(judgeRange(inferKafkaVersion(T['3.4']), range)).toBe('pass');
    expect(judgeRange(inferKafkaVersion(T['0.10.2']), range)).toBe('pass');
    expect(judgeRange(inferKafkaVersion(T['3.6']), range)).toBe('fail');
    expect(judgeRange({ min: '3.4', max: '3.5', label: '3.4–3.5', basis: [] }, range)).toBe('warn');
    expect(judgeRange(inferKafkaVersion(T['3.4']), { min: '0.9', max: '3.4.1' })).toBe('pass');
  });

  test('missingApis names what an old broker lacks', () => {
    expect(
      missingApis(T['0.10.0'], [
        [0, 3],
        [1, 4],
        [18, 0],
      ]),
    ).toEqual(['Produce v3+', 'Fetch v4+']);
  });
});

describe('probeApiVersions failures name host:port and the stage', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.destroy());
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });
  const listen = async (onConnection: (s: Socket) => void) => {
    server = createServer((s) => {
      sockets.push(s);
      onConnection(s);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return (server.address() as { port: number }).port;
  };

  test('refused port', async () => {
    const err = await probeApiVersions('127.0.0.1', 1, { timeoutMs: 2000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiVersionsProbeError);
    expect(err).toMatchObject({ stage: 'connect', host: '127.0.0.1', port: 1 });
    expect(err.message).toMatch(/^127\.0\.0\.1:1: cannot connect: ECONNREFUSED/);
  });

  test('a peer that closes without answering (a pre-0.10 broker)', async () => {
    const port = await listen((s) => s.once('data', () => s.end()));
    const err = await probeApiVersions('127.0.0.1', port, { timeoutMs: 2000 }).catch((e) => e);
    expect(err).toMatchObject({ stage: 'closed' });
    expect(err.message).toContain(`127.0.0.1:${port}: closed the connection without answering ApiVersions`);
  });

  test('a peer that never answers', async () => {
    const port = await listen(() => undefined);
    const err = await probeApiVersions('127.0.0.1', port, { timeoutMs: 300 }).catch((e) => e);
    expect(err).toMatchObject({ stage: 'timeout' });
    expect(err.message).toContain('no ApiVersions response within 300 ms');
  });

  test('a peer that is not Kafka (HTTP)', async () => {
    const port = await listen((s) => s.once('data', () => s.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const err = await probeApiVersions('127.0.0.1', port, { timeoutMs: 2000 }).catch((e) => e);
    expect(err).toMatchObject({ stage: 'protocol' });
    expect(err.message).toMatch(/not a Kafka listener/);
  });
});
