/** The brokers a cluster advertises in its metadata, each probed with a raw ApiVersions round trip. */
import type { ClusterConnection, MigrationSpec } from '../../config/spec';
import { ApiVersionsProbeError, probeApiVersions, type ApiVersionsProbeResult } from '../../kafka/apiVersions';
import type { ClusterRole } from '../../kafka/clients';
import { onCluster } from './common';

export interface BrokerEndpoint {
  nodeId: number | null;
  host: string;
  port: number;
}

export type BrokerProbe =
  ({ ok: true; endpoint: BrokerEndpoint } & ApiVersionsProbeResult) | { ok: false; endpoint: BrokerEndpoint; stage: string; error: string };

export function usesTls(conn: ClusterConnection): boolean {
  return conn.securityProtocol === 'SSL' || conn.securityProtocol === 'SASL_SSL';
}

/** Brokers from the cluster's metadata (the addresses clients are redirected to, not the bootstrap list). */
export async function advertisedBrokers(spec: MigrationSpec, role: ClusterRole, check: string): Promise<{ clusterId: string; brokers: BrokerEndpoint[] }> {
  return onCluster(spec, role, check, async (admin) => {
    const cluster = await admin.describeCluster();
    const brokers = cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })).sort((a, b) => a.nodeId - b.nodeId);
    return { clusterId: cluster.clusterId, brokers };
  });
}

/** The bootstrap addresses as endpoints (node id unknown). */
export function bootstrapEndpoints(conn: ClusterConnection): BrokerEndpoint[] {
  return conn.bootstrapServers.map((hp) => {
    const at = hp.lastIndexOf(':');
    return { nodeId: null, host: hp.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(hp.slice(at + 1)) };
  });
}

/** Probes every endpoint in parallel; never throws. */
export async function probeEndpoints(conn: ClusterConnection, endpoints: BrokerEndpoint[]): Promise<BrokerProbe[]> {
  const timeoutMs = Math.max(1000, conn.connectionTimeoutMs);
  return Promise.all(
    endpoints.map(async (endpoint): Promise<BrokerProbe> => {
      try {
        const probe = await probeApiVersions(endpoint.host, endpoint.port, { timeoutMs, tls: usesTls(conn), clientId: `${conn.clientId}-preflight` });
        return { ok: true, endpoint, ...probe };
      } catch (e) {
        const stage = e instanceof ApiVersionsProbeError ? e.stage : 'connect';
        return { ok: false, endpoint, stage, error: (e as Error).message };
      }
    }),
  );
}

export function endpointName(e: BrokerEndpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}${e.nodeId === null ? '' : ` (broker ${e.nodeId})`}`;
}
