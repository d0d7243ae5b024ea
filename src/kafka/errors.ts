/**
 * Turns Kafka client errors into Temporal failures: configuration faults (bad credentials, missing secret,
 * missing permission) are non-retryable and say what to fix; anything else stays retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { SecretResolutionError } from '../config/secrets';
import type { ClusterConnection } from '../config/spec';
import type { ClusterRole } from './clients';
import type { FailureType } from '../types/failureTypes';
import { tlsHandshakeProblem } from './tlsOptions';

// Every type is listed, with its meaning and retryability, in src/types/failureTypes.ts.
const SECRET = 'SecretUnavailable' satisfies FailureType;
const AUTHENTICATION = 'KafkaAuthenticationFailed' satisfies FailureType;
const AUTHORIZATION = 'KafkaAuthorizationFailed' satisfies FailureType;
const UNAVAILABLE = 'KafkaUnavailable' satisfies FailureType;

export function isAuthenticationError(e: unknown): boolean {
  const err = e as { name?: string; type?: string; message?: string };
  return (
    err?.name === 'KafkaJSSASLAuthenticationError' || err?.type === 'SASL_AUTHENTICATION_FAILED' || /SASL .*authentication failed/i.test(err?.message ?? '')
  );
}

export function isAuthorizationError(e: unknown): boolean {
  const err = e as { type?: string };
  return typeof err?.type === 'string' && /AUTHORIZATION_FAILED$/.test(err.type);
}

/** Describes a cluster for error messages: role, bootstrap and user, never the password. */
export function describeCluster(conn: ClusterConnection, role: ClusterRole): string {
  const user = conn.sasl ? ` as user "${conn.sasl.username}" (${conn.sasl.mechanism})` : '';
  return `${role} cluster ${conn.bootstrapServers.join(',')} over ${conn.securityProtocol}${user}`;
}

/** Rethrows e as the right Temporal failure for an operation on the given cluster. */
export function toKafkaFailure(e: unknown, conn: ClusterConnection, role: ClusterRole, action: string): Error {
  const where = describeCluster(conn, role);
  if (e instanceof ApplicationFailure) return e;
  if (e instanceof SecretResolutionError) {
    return ApplicationFailure.nonRetryable(`${action}: ${e.message}`, SECRET);
  }
  // A refused certificate is a configuration fault: retrying the handshake cannot fix it.
  const tls = tlsHandshakeProblem(e, conn, role);
  if (tls?.kind === 'certificate') return ApplicationFailure.nonRetryable(`${action}: ${where}: ${tls.message}`, AUTHENTICATION);
  if (tls) return ApplicationFailure.retryable(`${action}: ${where}: ${tls.message}`, UNAVAILABLE);
  if (isAuthenticationError(e)) {
    return ApplicationFailure.nonRetryable(
      `${action}: authentication failed on the ${where}: check the username and the password reference in ${role}.sasl`,
      AUTHENTICATION,
    );
  }
  if (isAuthorizationError(e)) {
    return ApplicationFailure.nonRetryable(`${action}: not authorized on the ${where}: ${(e as Error).message}`, AUTHORIZATION);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return ApplicationFailure.retryable(`${action}: ${where}: ${msg}`, UNAVAILABLE);
}

/**
 * The same for an error that no code tagged with its cluster (see src/kafka/clusterRole.ts): the failure is as
 * retryable as it would be on a known cluster, and its message does not name one rather than guess.
 */
export function toUntaggedKafkaFailure(e: unknown, action: string): Error {
  if (e instanceof ApplicationFailure) return e;
  if (e instanceof SecretResolutionError) return ApplicationFailure.nonRetryable(`${action}: ${e.message}`, SECRET);
  const msg = e instanceof Error ? e.message : String(e);
  if (isAuthenticationError(e)) {
    return ApplicationFailure.nonRetryable(
      `${action}: authentication failed: check the usernames and the password references in source.sasl and target.sasl (${msg})`,
      AUTHENTICATION,
    );
  }
  if (isAuthorizationError(e)) return ApplicationFailure.nonRetryable(`${action}: not authorized: ${msg}`, AUTHORIZATION);
  return ApplicationFailure.retryable(`${action}: ${msg}`, UNAVAILABLE);
}
