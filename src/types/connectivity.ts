import type { ClusterRole } from '../kafka/clients';

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
}

export interface ClusterConnectivity {
  role: ClusterRole;
  bootstrapServers: string[];
  securityProtocol: string;
  /** The SASL user that authenticated, if any (never the password). */
  user?: string;
  clusterId: string;
  controllerId: number | null;
  brokers: BrokerEndpoint[];
  /** Topics the migration user can see. */
  visibleTopics: number;
  latencyMs: number;
}

export interface ConnectivityReport {
  checkedAt: string;
  source: ClusterConnectivity;
  target: ClusterConnectivity;
}
