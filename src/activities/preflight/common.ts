/** Shared plumbing for the preflight checks: results, cluster access with failure mapping, scope, ACL hints. */
import { Context } from '@temporalio/activity';
import type { Admin } from 'kafkajs';
import type { ClusterConnection, MigrationSpec } from '../../config/spec';
import { withAdmin, type ClusterRole } from '../../kafka/clients';
import { toKafkaFailure } from '../../kafka/errors';
import { scopeMatcher } from '../../plan/scope';
import type { CheckResult, Verdict } from '../../types/preflight';

export interface CheckInput {
  spec: MigrationSpec;
}

const ORDER: Record<Verdict, number> = { pass: 0, warn: 1, fail: 2 };

export function worstVerdict(verdicts: Verdict[]): Verdict {
  return verdicts.reduce<Verdict>((worst, v) => (ORDER[v] > ORDER[worst] ? v : worst), 'pass');
}

export function connectionOf(spec: MigrationSpec, role: ClusterRole): ClusterConnection {
  return role === 'source' ? spec.source : spec.target;
}

/**
 * Runs fn with an admin client of one cluster. Errors become Temporal failures: bad credentials or a
 * missing secret are non-retryable with what to fix, anything else (network, leader moves) is retryable.
 */
export async function onCluster<T>(spec: MigrationSpec, role: ClusterRole, check: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const conn = connectionOf(spec, role);
  try {
    return await withAdmin(conn, role, fn, { retries: 2, clientIdSuffix: `preflight-${check}` });
  } catch (e) {
    throw toKafkaFailure(e, conn, role, check);
  }
}

/** In-scope source topics the migration user can see, sorted. */
export async function inScopeTopics(spec: MigrationSpec, admin: Admin): Promise<string[]> {
  const scope = scopeMatcher(spec);
  return (await admin.listTopics()).filter((t) => scope.topic(t)).sort();
}

/** The principal the migration authenticates as on a cluster (what ACLs name). */
export { principalOf } from '../../kafka/principal';

export type AclResourceKind = 'topic' | 'group' | 'cluster';

/** The kafka-acls command an admin runs to grant one operation. */
export function grantCommand(conn: ClusterConnection, principal: string, operation: string, kind: AclResourceKind, name?: string, prefixed = false): string {
  const resource = kind === 'cluster' ? '--cluster' : `--${kind} '${name}'${prefixed ? ' --resource-pattern-type prefixed' : ''}`;
  return `kafka-acls.sh --bootstrap-server ${conn.bootstrapServers[0]} --command-config admin.properties --add --allow-principal ${principal} --operation ${operation} ${resource}`;
}

/** The kafka-acls command that removes a DENY binding (an ALLOW never overrides a DENY). */
export function removeDenyCommand(
  conn: ClusterConnection,
  principal: string,
  operation: string,
  kind: AclResourceKind,
  name: string,
  patternType: string,
): string {
  const pattern = patternType === 'PREFIXED' ? ' --resource-pattern-type prefixed' : '';
  return `kafka-acls.sh --bootstrap-server ${conn.bootstrapServers[0]} --command-config admin.properties --remove --deny-principal ${principal} --operation ${operation} --${kind} '${name}'${pattern}`;
}

/** The Kafka error type of an error, looking through kafkajs' retry wrappers (originalError / cause). */
export function kafkaErrorType(e: unknown): string | undefined {
  for (let err = e as { type?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if (typeof err.type === 'string') return err.type;
    err = (err.originalError ?? err.cause) as typeof err;
  }
  return undefined;
}

export function errorText(e: unknown): string {
  const type = kafkaErrorType(e);
  const message = e instanceof Error ? e.message : String(e);
  return type && !message.startsWith(type) ? `${type}: ${message}` : message;
}

export function isAuthorizationFailure(e: unknown): boolean {
  return /AUTHORIZATION_FAILED$/.test(kafkaErrorType(e) ?? '');
}

/** Heartbeats when running as an activity; a no-op when called directly (tests, CLI). */
export function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* not in an activity */
  }
}

/** Sleeps, heartbeating every few seconds; rejects if the activity is cancelled. */
export async function sleepWithHeartbeat(ms: number, details?: unknown): Promise<void> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const step = Math.min(2000, deadline - Date.now());
    if (ctx) {
      ctx.heartbeat(details);
      await ctx.sleep(step);
    } else {
      await new Promise((r) => setTimeout(r, step));
    }
  }
}

/** Caps a list kept as evidence, saying how many there were. */
export function limitList<T>(items: T[], max = 200): { items: T[]; total: number; truncated: boolean } {
  return { items: items.slice(0, max), total: items.length, truncated: items.length > max };
}

export function result(id: string, title: string, verdict: Verdict, summary: string, evidence: Record<string, unknown>, remediation?: string): CheckResult {
  return remediation ? { id, title, verdict, summary, evidence, remediation } : { id, title, verdict, summary, evidence };
}

/** Name of a kafkajs enum value: kafkajs' runtime enums are plain objects, without reverse mapping. */
export function enumName(enumObject: object, value: number): string {
  return Object.entries(enumObject).find(([, v]) => v === value)?.[0] ?? String(value);
}
