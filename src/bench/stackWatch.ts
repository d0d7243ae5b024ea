/**
 * Notices when the local stack was restarted under a measurement (someone else's chaos test, a crash):
 * the pid files of scripts/stack.sh change. Such a measurement is flagged, not silently kept.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { STACK_DIR } from './settings';

const SERVICES = ['source', 'target', 'temporal'] as const;

export type StackPids = Record<(typeof SERVICES)[number], string | undefined>;

export function stackPids(): StackPids {
  const read = (name: string) => {
    try {
      return readFileSync(resolve(STACK_DIR, 'run', `${name}.pid`), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  return { source: read('source'), target: read('target'), temporal: read('temporal') };
}

/** Runs a measurement; returns a note naming what restarted meanwhile (undefined when nothing did). */
export async function underStackWatch<T>(what: string, fn: () => Promise<T>): Promise<{ value: T; disturbed?: string }> {
  const before = stackPids();
  const value = await fn();
  const after = stackPids();
  const restarted = SERVICES.filter((s) => before[s] !== after[s]);
  return restarted.length ? { value, disturbed: `${restarted.join(', ')} restarted during ${what}: its figures are not valid` } : { value };
}
