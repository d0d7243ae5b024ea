/**
 * The consumer groups kafka-migrate makes for its own reads (kafkajs has no manual assignment, so every read joins
 * a private group): the preflight's sample reads, the inventory's tail reader, the ledger, fence and report-store readers. They
 * are deleted as soon as their read ends (an empty group without offsets would otherwise stay listed until the
 * broker's next offsets-retention check, 10 minutes by default) and are never inventoried, planned or reported as
 * clients. Deleting needs DELETE on these groups (a prefixed ACL on `<clientId>-`).
 */
import type { Kafka } from 'kafkajs';
import { retry } from '../retry/backoff';
import { isUnsupportedApi } from './optionalApis';

/** Group id prefixes of the tool's own groups, for a connection's clientId (default `kafka-migrate`). */
export function toolGroupPrefixes(clientId: string): string[] {
  const roles = ['preflight', 'inventory', 'ledger', 'fences', 'reports'];
  return [...new Set([clientId, 'kafka-migrate'].flatMap((id) => roles.map((r) => `${id}-${r}-`)))];
}

export function isToolGroup(groupId: string, clientId: string): boolean {
  return toolGroupPrefixes(clientId).some((p) => groupId.startsWith(p));
}

interface DeleteGroupsError {
  groups?: { groupId: string; error?: { type?: string; message?: string } }[];
  type?: string;
  message?: string;
}

/** Worth another try: the member's LeaveGroup not processed yet, or the coordinator moving. */
const TRANSIENT = new Set(['NON_EMPTY_GROUP', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT']);

function errorType(e: unknown): string {
  const err = e as DeleteGroupsError;
  return err.groups?.[0]?.error?.type ?? err.type ?? '';
}

/**
 * Deletes one of the tool's groups once its consumer has left. Resolves to undefined when the group is gone
 * (or never existed), else to why it could not be deleted (e.g. GROUP_AUTHORIZATION_FAILED): the read itself
 * succeeded, so this is reported, never thrown.
 */
export async function deleteToolGroup(kafka: Kafka, groupId: string): Promise<string | undefined> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await retry(() => admin.deleteGroups([groupId]), { initialMs: 100, maxMs: 1000, maxAttempts: 6, retryIf: (e) => TRANSIENT.has(errorType(e)) });
    return undefined;
  } catch (e) {
    const type = errorType(e);
    if (type === 'GROUP_ID_NOT_FOUND') return undefined;
    // DeleteGroups arrived in 1.1: an older broker expires the empty group itself (offsets.retention), nothing to report.
    if (isUnsupportedApi(e)) return undefined;
    const err = e as DeleteGroupsError;
    return `${type || 'error'}: ${err.groups?.[0]?.error?.message ?? err.message ?? String(e)}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
