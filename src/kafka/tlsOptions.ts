/**
 * The kafkajs `ssl` option of a connection: `false` for PLAINTEXT / SASL_PLAINTEXT, Node TLS options built from
 * the spec's `tls` block (resolved on the worker, see src/kafka/tlsStores.ts) for SSL / SASL_SSL. Also turns a
 * failed TLS handshake into a sentence that says which setting to fix.
 */
import type { ConnectionOptions } from 'node:tls';
import type { ClusterConnection } from '../config/spec';
import { readCa, readKeyPair, readKeystore, readTruststore } from './tlsStores';

export function usesTls(conn: Pick<ClusterConnection, 'securityProtocol'>): boolean {
  return conn.securityProtocol === 'SSL' || conn.securityProtocol === 'SASL_SSL';
}

/** Node TLS options for kafkajs; `true` = TLS with Node's public CAs and hostname verification. */
export function kafkaTlsOptions(conn: ClusterConnection, role: string): ConnectionOptions | boolean {
  if (!usesTls(conn)) return false;
  const t = conn.tls;
  if (!t) return true;
  const field = `${role}.tls`;
  const options: ConnectionOptions = { rejectUnauthorized: true };
  if (t.ca) options.ca = readCa(t.ca, `${field}.ca`);
  if (t.truststore) options.ca = readTruststore(t.truststore, `${field}.truststore`);
  const pair = t.cert && t.key ? readKeyPair(t.cert, t.key, t.keyPassword, field) : t.keystore ? readKeystore(t.keystore, `${field}.keystore`) : undefined;
  if (pair) Object.assign(options, pair);
  // The chain is still verified against the CA; only the name check is skipped (Kafka's empty
  // ssl.endpoint.identification.algorithm).
  if (!t.verifyHostname) options.checkServerIdentity = () => undefined;
  return options;
}

/** Messages of an error and the errors it wraps (kafkajs: originalError / cause / retry wrappers). */
function messages(e: unknown): string {
  const out: string[] = [];
  for (let cur = e as { message?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; cur && depth < 6; depth++) {
    if (cur.message) out.push(cur.message);
    cur = (cur.originalError ?? cur.cause) as typeof cur;
  }
  return out.join(' | ');
}

export interface TlsProblem {
  /** certificate: a configuration fault that retrying cannot fix; not-tls: the port does not speak TLS (or reset the handshake). */
  kind: 'certificate' | 'not-tls';
  message: string;
}

/** What a failed TLS handshake means for this connection, or undefined when e is not a TLS failure. */
export function tlsHandshakeProblem(e: unknown, conn: ClusterConnection, role: string): TlsProblem | undefined {
  const message = explain(e, conn, role);
  if (!message) return undefined;
  return { kind: message.startsWith(`the ${role} listener`) ? 'not-tls' : 'certificate', message };
}

function explain(e: unknown, conn: ClusterConnection, role: string): string | undefined {
  const text = messages(e);
  const t = conn.tls;
  const caField = t?.truststore ? `${role}.tls.truststore` : `${role}.tls.ca`;
  const certField = t?.keystore ? `${role}.tls.keystore` : `${role}.tls.cert`;
  if (
    /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate has expired|certificate is not yet valid/i.test(
      text,
    )
  ) {
    const reason = /certificate has expired|not yet valid/i.test(text)
      ? 'its certificate is outside its validity period'
      : 'its certificate is not signed by a trusted CA';
    return `the ${role} broker's TLS certificate was refused (${reason}: ${firstTlsReason(text)}); expected ${caField} to hold the CA certificate that signed the brokers' certificates`;
  }
  if (/Hostname\/IP does not match certificate|does not match certificate's altnames/i.test(text)) {
    return `the ${role} broker's TLS certificate does not name the address it was reached at (${firstTlsReason(text)}); expected a certificate for that address, or set ${role}.tls.verifyHostname: false (the chain is still checked)`;
  }
  if (/alert bad certificate|certificate required|alert unknown ca|alert certificate unknown|alert number (42|46|48|116)/i.test(text)) {
    return t?.cert || t?.keystore
      ? `the ${role} broker rejected the client certificate of ${certField} (${firstTlsReason(text)}); expected a certificate signed by a CA the broker trusts (ssl.truststore of its listener)`
      : `the ${role} broker requires a client certificate (mTLS, ssl.client.auth=required) and none is configured; expected ${role}.tls.cert and ${role}.tls.key, or ${role}.tls.keystore`;
  }
  if (/wrong version number|packet length too long|unknown protocol|ECONNRESET.*tls|before secure TLS connection was established/i.test(text)) {
    return `the ${role} listener at ${conn.bootstrapServers.join(',')} did not complete a TLS handshake (${firstTlsReason(text)}); expected the port of an SSL / SASL_SSL listener for securityProtocol ${conn.securityProtocol}`;
  }
  return undefined;
}

function firstTlsReason(text: string): string {
  const reason = text.split(' | ').find((m) => /certificate|alert|ssl|tls|hostname/i.test(m)) ?? text.split(' | ')[0];
  return reason
    .replace(/^Connection error: /, '')
    .replace(/:\.\.\/deps\/openssl\S*/g, '')
    .trim()
    .slice(0, 200);
}
