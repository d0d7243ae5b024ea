import type { MigrationSpec } from '../config/spec';
import { withAdmin } from '../kafka/clients';
import { toKafkaFailure } from '../kafka/errors';
import { forgetTargetTopics } from '../copy/forgetTargetTopics';

/**
 * Activity: on abort, deletes target topics that this migration created (never adopted or foreign ones: the
 * caller passes the `created` list of createTargetTopics), and forgets them in the offset store so that a resume
 * copies them afresh. Idempotent: topics already gone are skipped, keys already forgotten are not listed again.
 */
export async function deleteTargetTopics(input: {
  spec: MigrationSpec;
  migration: string;
  topics: string[];
}): Promise<{ deleted: string[]; missing: string[]; forgottenKeys: number }> {
  const { spec, topics } = input;
  try {
    const outcome = await withAdmin(spec.target, 'target', async (admin) => {
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
    // Only once the topics are gone: a store that forgot a topic which still exists would adopt nothing on resume.
    const forgottenKeys = await forgetTargetTopics(spec.target, input.migration, topics);
    return { ...outcome, forgottenKeys };
  } catch (e) {
    throw toKafkaFailure(e, spec.target, 'target', 'deleteTargetTopics');
  }
}
