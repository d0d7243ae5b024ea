/**
 * Activities that talk to both clusters must say which one failed. An error is tagged with the role of the
 * cluster it came from where the code knows it (openClusterClients, the copy engine's reader and writer,
 * onCluster around a call), and the activity turns it into the right Temporal failure with that cluster's
 * description. Nothing guesses the cluster from an error message: an untagged error names no cluster.
 */
import type { MigrationSpec } from '../config/spec';
import type { ClusterRole } from './clients';
import { toKafkaFailure, toUntaggedKafkaFailure } from './errors';

/** The role an error was tagged with, if any. */
export function clusterRoleOf(e: unknown): ClusterRole | undefined {
  const role = (e as { clusterRole?: unknown } | null | undefined)?.clusterRole;
  return role === 'source' || role === 'target' ? role : undefined;
}

/** Tags e with the role of the cluster it came from, unless an inner call already did; returns e. */
export function tagClusterRole<E>(e: E, role: ClusterRole): E {
  if (e && typeof e === 'object' && !clusterRoleOf(e)) (e as { clusterRole?: ClusterRole }).clusterRole = role;
  return e;
}

export async function onCluster<T>(role: ClusterRole, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw tagClusterRole(e, role);
  }
}

/** The same tagging for a stream: errors raised while iterating carry the role. */
export async function* onClusterStream<T>(role: ClusterRole, items: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* items;
  } catch (e) {
    throw tagClusterRole(e, role);
  }
}

/** toKafkaFailure for the cluster the error is tagged with; an untagged error is described without a cluster. */
export function failureOnTaggedCluster(e: unknown, spec: Pick<MigrationSpec, 'source' | 'target'>, action: string): Error {
  const role = clusterRoleOf(e);
  if (!role) return toUntaggedKafkaFailure(e, action);
  return toKafkaFailure(e, role === 'target' ? spec.target : spec.source, role, action);
}
