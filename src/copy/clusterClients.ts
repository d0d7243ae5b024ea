/** The clients one copy run needs on one cluster: an admin and a raw cluster for Fetch/Produce. */
import type { Admin } from 'kafkajs';
import type { ClusterConnection } from '../config/spec';
import { createKafka, type ClusterRole } from '../kafka/clients';
import { tagClusterRole } from '../kafka/clusterRole';
import { createInternalCluster, type InternalCluster } from './kafkaInternals';

export interface ClusterClients {
  role: ClusterRole;
  conn: ClusterConnection;
  admin: Admin;
  cluster: InternalCluster;
  close(): Promise<void>;
}

export async function openClusterClients(conn: ClusterConnection, role: ClusterRole, clientIdSuffix: string): Promise<ClusterClients> {
  const kafka = createKafka(conn, role, { clientIdSuffix });
  const admin = kafka.admin();
  const cluster = createInternalCluster(kafka);
  try {
    await Promise.all([admin.connect(), cluster.connect()]);
  } catch (e) {
    await Promise.allSettled([admin.disconnect(), cluster.disconnect()]);
    throw tagClusterRole(e, role);
  }
  return {
    role,
    conn,
    admin,
    cluster,
    async close() {
      await Promise.allSettled([admin.disconnect(), cluster.disconnect()]);
    },
  };
}
