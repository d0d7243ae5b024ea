/**
 * Activities that talk to both clusters must say which one failed: an error is tagged with the role of the
 * cluster it came from (as the copy engine does with `clusterRole`), and the activity turns it into the right
 * Temporal failure with that cluster's description.
 */
import type { MigrationSpec } from '../config/spec';
import type { ClusterRole } from '../kafka/clients';
import { toKafkaFailure } from '../kafka/errors';

export async function onCluster<T>(role: ClusterRole, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e && typeof e === 'object' && !(e as { clusterRole?: ClusterRole }).clusterRole) (e as { clusterRole?: ClusterRole }).clusterRole = role;
    throw e;
  }
}

/** toKafkaFailure for the cluster the error is tagged with (the source when untagged). */
export function failureOnTaggedCluster(e: unknown, spec: Pick<MigrationSpec, 'source' | 'target'>, action: string): Error {
  const role = (e as { clusterRole?: ClusterRole } | null)?.clusterRole === 'target' ? 'target' : 'source';
  return toKafkaFailure(e, role === 'target' ? spec.target : spec.source, role, action);
}

/** The same tagging for a stream: errors raised while iterating carry the role. */
export async function* onClusterStream<T>(role: ClusterRole, items: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* items;
  } catch (e) {
    if (e && typeof e === 'object' && !(e as { clusterRole?: ClusterRole }).clusterRole) (e as { clusterRole?: ClusterRole }).clusterRole = role;
    throw e;
  }
}
