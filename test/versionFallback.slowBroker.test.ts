/**
 * The 0.9 version fallback (src/copy/kafkaInternals.ts) must not take a slow modern broker for 0.9: that would fetch
 * without isolation (aborted transactions copied) for 10 minutes. A TCP proxy in front of the real target broker holds
 * back the answer on the first connection for longer than the connection timeout; the second ApiVersions, on a fresh
 * connection, is answered: the broker keeps its real version table, and no fallback is remembered.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { installBrokerVersionFallback, usesVersionFallback } from '../src/copy/kafkaInternals';
import { TARGET_BOOTSTRAP } from './helpers/stack';

const CONNECTION_TIMEOUT_MS = 1000;

/** Forwards to host:port; the first connection's answers are held back `holdMs`. */
function slowFirstConnectionProxy(
  host: string,
  port: number,
  holdMs: number,
): Promise<{ server: Server; port: number; connections: () => number; sockets: Socket[] }> {
  let connections = 0;
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const n = ++connections;
    const upstream = connect(port, host);
    sockets.push(client, upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk) => {
      if (n === 1) setTimeout(() => client.writable && client.write(chunk), holdMs);
      else client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, connections: () => connections, sockets })),
  );
}

test('a broker that answers ApiVersions late (but answers the second one) is not taken for Kafka 0.9', async () => {
  installBrokerVersionFallback();
  const [host, port] = TARGET_BOOTSTRAP.split(':');
  const proxy = await slowFirstConnectionProxy(host, Number(port), 3 * CONNECTION_TIMEOUT_MS);
  const address = `127.0.0.1:${proxy.port}`;
  const kafka = new Kafka({ clientId: 'slow-broker-test', brokers: [address], connectionTimeout: CONNECTION_TIMEOUT_MS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThan(0);
    // DescribeConfigs is not in 0.9's table: it works only with the broker's real versions.
    const configs = await admin.describeConfigs({ resources: [{ type: 4, name: String(cluster.brokers[0].nodeId) }], includeSynonyms: false });
    expect(configs.resources[0].configEntries.length).toBeGreaterThan(0);
    expect(usesVersionFallback(address)).toBe(false);
    expect(proxy.connections()).toBeGreaterThanOrEqual(2); // the first (held back) connection was replaced
  } finally {
    await admin.disconnect();
    proxy.sockets.forEach((sk) => sk.destroy());
    await new Promise((resolve) => proxy.server.close(resolve));
  }
}, 60_000);
