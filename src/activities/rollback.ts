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
      if (deleted.length) {
        try {
          await admin.deleteTopics({ topics: deleted, timeout: 30000 });
        } catch (e) {
          // Deleted by someone else since the listing (UNKNOWN_TOPIC_OR_PARTITION): gone is what was asked.
          const left = new Set(await admin.listTopics());
          if (deleted.some((t) => left.has(t))) throw e;
        }
      }
      return { deleted, missing };
    });
  } catch (e) {
    throw toKafkaFailure(e, spec.target, 'target', 'deleteTargetTopics');
  }
}
