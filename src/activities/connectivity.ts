import type { ClusterConnection, MigrationSpec } from '../config/spec';
import { withAdmin, type ClusterRole } from '../kafka/clients';
import { ApplicationFailure } from '@temporalio/common';
import { effectiveProfile } from '../config/profiles';
import { toKafkaFailure } from '../kafka/errors';
import type { FailureType } from '../types/failureTypes';
import type { ClusterConnectivity, ConnectivityReport } from '../types';
import { sameClusterFault } from '../kafka/sameCluster';

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

/**
 * A protocol the target profile cannot take is a configuration fault, said plainly before any connection is
 * tried (a TLS handshake against a PLAINTEXT listener would only time out).
 */
export function protocolFault(input: { source: MigrationSpec['source']; target: MigrationSpec['target'] }): string | undefined {
  const profile = effectiveProfile(input.target);
  if (!profile.sourceSecurityProtocols.includes(input.source.securityProtocol)) {
    return `source.securityProtocol ${input.source.securityProtocol} is not supported with the ${profile.name} profile (expected ${profile.sourceSecurityProtocols.join(' or ')}): point source.bootstrapServers at a listener of one of those protocols`;
  }
  if (!profile.securityProtocols.includes(input.target.securityProtocol)) {
    return `target.securityProtocol ${input.target.securityProtocol} is not accepted by the ${profile.name} profile (expected ${profile.securityProtocols.join(' or ')}): use the target's PLAINTEXT listener, or target.profile: kafka / target.profileOverrides.securityProtocols`;
  }
  return undefined;
}

const INVALID_CONFIGURATION = 'InvalidConfiguration' satisfies FailureType;

/** Activity: both clusters answer over their configured protocols with the configured credentials. */
export async function checkConnectivity(input: { source: MigrationSpec['source']; target: MigrationSpec['target'] }): Promise<ConnectivityReport> {
  const fault = protocolFault(input);
  if (fault) throw ApplicationFailure.nonRetryable(`checkConnectivity: ${fault}`, INVALID_CONFIGURATION);
  const [source, target] = await Promise.all([probeCluster(input.source, 'source'), probeCluster(input.target, 'target')]);
  // Both answered: now refuse a target that is the source (retrying cannot fix a spec).
  const same = sameClusterFault(source, target);
  if (same) throw ApplicationFailure.nonRetryable(`checkConnectivity: ${same}`, INVALID_CONFIGURATION);
  return { checkedAt: new Date().toISOString(), source, target };
}
