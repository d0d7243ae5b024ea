/**
 * spec.scope.includeInactive: inactive topics and unclaimed groups the operator wants migrated anyway.
 * Pure and workflow-safe. Each entry is an exact name or a full-match regex (like the other scope fields);
 * an entry that is not a valid regex still matches its exact name.
 */
import type { MigrationSpec } from '../config/spec';

export function includedDespiteFlags(spec: Pick<MigrationSpec, 'scope'>, name: string): boolean {
  return spec.scope.includeInactive.some((entry) => {
    if (entry === name) return true;
    try {
      return new RegExp(`^(?:${entry})$`).test(name);
    } catch {
      return false;
    }
  });
}
