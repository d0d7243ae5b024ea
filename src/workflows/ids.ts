/**
 * Readable workflow ids and report file names, as operators see them in the Temporal UI and the reports folder.
 * Every name the planner (or an operator's edited plan) can give a batch — `orders`, `alpha+beta`, `orders-1of3`,
 * anything typed into an edited plan — goes through `batchSlug`, so that each id and file name derived from it
 * is valid wherever it is used. Workflow-safe: pure string functions.
 */
export const TASK_QUEUE_DEFAULT = 'kafka-migrate';

/** Longest slug kept readable; longer names are cut and get a short hash so two long names never collide. */
const MAX_SLUG = 80;

export function migrationWorkflowId(name: string): string {
  return `migration-${name}`;
}

/**
 * A batch name as letters, digits, dots, dashes and underscores only. `+` (a batch that spans two systems)
 * becomes `_`, which a business system name cannot contain, so distinct planner names stay distinct.
 */
export function batchSlug(batchName: string): string {
  const slug =
    batchName
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '_')
      .replace(/^[._-]+/, '') || 'batch';
  // The planner's names (system names, `+`, `-1of3`) map one to one; anything else (an edited plan's name with
  // other characters, or a very long one) gets a short hash of the original so that two names never collide.
  const oneToOne = /^[a-z0-9][a-z0-9.+-]*$/.test(batchName) && slug.length <= MAX_SLUG;
  return oneToOne ? slug : `${slug.slice(0, MAX_SLUG)}-${hash32(batchName)}`;
}

export function batchWorkflowId(name: string, batchNumber: number, batchName: string): string {
  return `migration-${name}-batch-${batchNumber}-${batchSlug(batchName)}`;
}

/** The file stem of a batch's reports: `batch-<n>-<slug>` plus an optional `-<kind>` (offsets, verification). */
export function batchFileStem(batchNumber: number, batchName: string, kind?: string): string {
  return `batch-${batchNumber}-${batchSlug(batchName)}${kind ? `-${kind}` : ''}`;
}

/** FNV-1a, 8 hex digits: deterministic and dependency-free (workflow code cannot use node:crypto). */
function hash32(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
