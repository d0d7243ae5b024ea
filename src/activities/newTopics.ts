/**
 * Activity: the source topics in scope the plan does not know yet, and the groups that committed on them
 * (src/inventory/newTopics.ts). Read-only; the migration workflow calls it every scope.newTopicsCheckSeconds.
 */
import type { MigrationSpec } from '../config/spec';
import { withAdmin } from '../kafka/clients';
import { toKafkaFailure } from '../kafka/errors';
import { findNewSourceTopics } from '../inventory/newTopics';
import type { NewTopicsReport } from '../types/newTopics';
import { inventoryGroupPrefix } from './inventory';

export async function findNewTopics(input: { spec: MigrationSpec; known: string[] }): Promise<NewTopicsReport> {
  const { spec } = input;
  try {
    return await withAdmin(spec.source, 'source', (admin) => findNewSourceTopics(admin, spec, input.known, inventoryGroupPrefix(spec)), {
      clientIdSuffix: 'new-topics',
    });
  } catch (e) {
    throw toKafkaFailure(e, spec.source, 'source', 'findNewTopics');
  }
}
