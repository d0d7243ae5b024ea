import type { ClusterConnection, MigrationSpec } from '../config/spec';
import { withAdmin, type ClusterRole } from '../kafka/clients';
import { toKafkaFailure } from '../kafka/errors';
import type { ClusterConnectivity, ConnectivityReport } from '../types';

/** Connects to one cluster over its configured protocol (SASL included) and describes it. */
export async function probeCluster(conn: ClusterConnection, role: ClusterRole): Promise<ClusterConnectivity> {
  const started = Date.now();
  try {
    return await withAdmin(
      conn,
      role,
      async (admin) => {
        const cluster = await admin.describeCluster();
        const topics = await admin.listTopics();
        return {
          role,
          bootstrapServers: conn.bootstrapServers,
          securityProtocol: conn.securityProtocol,
          user: conn.sasl?.username,
          clusterId: cluster.clusterId,
          controllerId: cluster.controller ?? null,
          brokers: cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
          visibleTopics: topics.length,
          latencyMs: Date.now() - started,
        };
      },
      { retries: 1, clientIdSuffix: 'connectivity' },
    );
  } catch (e) {
    throw toKafkaFailure(e, conn, role, 'checkConnectivity');
  }
}

/** Activity: both clusters answer over their configured protocols with the configured credentials. */
export async function checkConnectivity(input: { source: MigrationSpec['source']; target: MigrationSpec['target'] }): Promise<ConnectivityReport> {
  const [source, target] = await Promise.all([probeCluster(input.source, 'source'), probeCluster(input.target, 'target')]);
  return { checkedAt: new Date().toISOString(), source, target };
}
