/** The principal a cluster's authorizer gives a connection (what ACLs name it by). */
import type { ClusterConnection } from '../config/spec';

export function principalOf(conn: ClusterConnection): string {
  if (conn.sasl) return `User:${conn.sasl.username}`;
  if (conn.securityProtocol === 'PLAINTEXT') return 'User:ANONYMOUS';
  // SSL: the broker names the client by its certificate's distinguished name (or what ssl.principal.mapping.rules make of it).
  return conn.tls?.cert || conn.tls?.keystore ? 'User:<the client certificate subject, after ssl.principal.mapping.rules>' : 'User:ANONYMOUS';
}
