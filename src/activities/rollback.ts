import type { MigrationSpec } from '../config/spec';
import { withAdmin } from '../kafka/clients';
import { toKafkaFailure } from '../kafka/errors';

/**
 * Activity: on abort, deletes target topics that this migration created (never adopted or foreign ones: the
 * caller passes the `created` list of createTargetTopics). Idempotent: topics already gone are skipped.
 */
export async function deleteTargetTopics(input: { spec: MigrationSpec; migration: string; topics: string[] }): Promise<{ deleted: string[]; missing: string[] }> {
  const { spec, topics } = input;
  try {
    return await withAdmin(spec.target, 'target', async (admin) => {
      const existing = new Set(await admin.listTopics());
      const deleted = topics.filter((t) => existing.has(t));
      const missing = topics.filter((t) => !existing.has(t));
      if (deleted.length) await admin.deleteTopics({ topics: deleted, timeout: 30000 });
      return { deleted, missing };
    });
  } catch (e) {
    throw toKafkaFailure(e, spec.target, 'target', 'deleteTargetTopics');
  }
}
