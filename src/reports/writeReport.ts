/**
 * Writes one report as a JSON file and a Markdown file side by side under `<spec.reports.dir>/<spec.name>/`.
 * Shared by every report writer (inventory, preflight, batches, final): one place decides where reports live.
 * Files are written to a temporary name and renamed, so a reader never sees a half-written report.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MigrationSpec } from '../config/spec';

/** Absolute paths of the two files written. */
export interface WrittenReport {
  jsonPath: string;
  markdownPath: string;
}

/** `<reports.dir>/<spec.name>` (absolute): the folder holding every report of one migration. */
export function migrationReportDir(spec: Pick<MigrationSpec, 'name' | 'reports'>): string {
  return resolve(spec.reports.dir, spec.name);
}

const SAFE_STEM = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Writes `<dir>/<fileStem>.json` and `<dir>/<fileStem>.md`; returns both absolute paths. */
export function writeReport(input: {
  spec: Pick<MigrationSpec, 'name' | 'reports'>;
  fileStem: string;
  json: unknown;
  markdown: string;
}): WrittenReport {
  if (!SAFE_STEM.test(input.fileStem)) {
    throw new Error(`report file stem "${input.fileStem}" must be letters, digits, dots, dashes or underscores (no path separators)`);
  }
  const dir = migrationReportDir(input.spec);
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, `${input.fileStem}.json`);
  const markdownPath = join(dir, `${input.fileStem}.md`);
  writeAtomically(jsonPath, `${JSON.stringify(input.json, null, 2)}\n`);
  writeAtomically(markdownPath, input.markdown.endsWith('\n') ? input.markdown : `${input.markdown}\n`);
  return { jsonPath, markdownPath };
}

function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
