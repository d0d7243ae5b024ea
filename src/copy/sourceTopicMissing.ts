/**
 * Topics of a batch that no longer exist: deleted on the source (or the target) while the migration runs.
 * That is an operator decision (exclude the topic, recreate it, abort), never something an activity retry
 * fixes, so every batch activity turns it into a non-retryable `SourceTopicMissing` / `TargetTopicMissing`
 * whose details[0] is `{ topics }` and whose message names them.
 *
 * Detection is by metadata, not by error text: an UNKNOWN_TOPIC_OR_PARTITION on a fetch or produce can also
 * mean a leader move, so after a failure the topics are looked up (twice, RECHECK_MS apart) and only topics
 * absent from both answers count as missing; otherwise the original (retryable) error stands.
 */
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { Admin } from 'kafkajs';
import type { ClusterConnection } from '../config/spec';
import { withAdmin, type ClusterRole } from '../kafka/clients';
import { SOURCE_TOPIC_MISSING, TARGET_TOPIC_MISSING, type MissingTopicsDetails } from '../types/failureTypes';

/** Between the two metadata answers that must both lack a topic. */
const RECHECK_MS = 300;

/** Partition count of each topic that exists, from one metadata request (every topic of the cluster). */
export async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const wanted = new Set(topics);
  const out = new Map<string, number>();
  if (wanted.size === 0) return out;
  // No topic list: a listed topic that is gone would make kafkajs retry its metadata request for seconds.
  const { topics: all } = await admin.fetchTopicMetadata();
  for (const t of all) if (wanted.has(t.name)) out.set(t.name, t.partitions.length);
  return out;
}

/** The topics absent from the cluster's metadata, in the given order. */
export async function missingTopics(admin: Admin, topics: readonly string[]): Promise<string[]> {
  const counts = await partitionCounts(admin, topics);
  return [...new Set(topics)].filter((t) => !counts.has(t));
}

/** The non-retryable failure for topics missing on one cluster; `action` prefixes the message (the activity). */
export function topicsMissingFailure(role: ClusterRole, topics: string[], action: string, hint?: string): ApplicationFailure {
  const sorted = [...new Set(topics)].sort();
  const details: MissingTopicsDetails = { topics: sorted };
  const what =
    role === 'source'
      ? `source topic(s) ${sorted.join(', ')} of the batch no longer exist (deleted on the source since the plan was made)`
      : `target topic(s) ${sorted.join(', ')} of the batch do not exist on the target`;
  return ApplicationFailure.create({
    nonRetryable: true,
    type: role === 'source' ? SOURCE_TOPIC_MISSING : TARGET_TOPIC_MISSING,
    message: `${action}: ${what}${hint ? `: ${hint}` : ''}`,
    details: [details],
  });
}

export interface TopicCheck {
  topics: readonly string[];
  source?: ClusterConnection;
  target?: ClusterConnection;
  action: string;
  /** Added to the TargetTopicMissing message (what to run). */
  targetHint?: string;
}

async function missingOn(conn: ClusterConnection, role: ClusterRole, topics: readonly string[]): Promise<string[]> {
  return withAdmin(conn, role, (admin) => missingTopics(admin, topics), { clientIdSuffix: 'topic-check' });
}

/** Throws SourceTopicMissing (checked first) or TargetTopicMissing when a topic is absent on that cluster. */
export async function assertTopicsExist(check: TopicCheck): Promise<void> {
  if (check.source) {
    const gone = await missingOn(check.source, 'source', check.topics);
    if (gone.length) throw topicsMissingFailure('source', gone, check.action);
  }
  if (check.target) {
    const gone = await missingOn(check.target, 'target', check.topics);
    if (gone.length) throw topicsMissingFailure('target', gone, check.action, check.targetHint);
  }
}

/**
 * After an activity failed: the missing-topic failure when topics of the batch are gone (absent twice,
 * RECHECK_MS apart), else undefined (the caller keeps its own error). A failing look-up is not an answer.
 */
export async function missingTopicsFailure(check: TopicCheck): Promise<ApplicationFailure | undefined> {
  try {
    for (const [conn, role] of [
      [check.source, 'source'],
      [check.target, 'target'],
    ] as const) {
      if (!conn) continue;
      const first = await missingOn(conn, role, check.topics);
      if (first.length === 0) continue;
      await new Promise((r) => setTimeout(r, RECHECK_MS));
      const second = new Set(await missingOn(conn, role, first));
      const gone = first.filter((t) => second.has(t));
      if (gone.length) return topicsMissingFailure(role, gone, check.action, role === 'target' ? check.targetHint : undefined);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * For an activity's catch: the missing-topic failure when topics of the batch are gone and that explains e,
 * else undefined (the caller converts e as usual). Temporal failures (cancellation, GroupActive...) pass as they are.
 */
export async function explainMissingTopics(e: unknown, check: TopicCheck): Promise<ApplicationFailure | undefined> {
  if (e instanceof ApplicationFailure && (e.type === SOURCE_TOPIC_MISSING || e.type === TARGET_TOPIC_MISSING)) return e;
  if (e instanceof TemporalFailure) return undefined;
  return missingTopicsFailure(check);
}
