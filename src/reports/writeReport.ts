/**
 * Writes one report as a JSON file and a Markdown file side by side under `<spec.reports.dir>/<spec.name>/`
 * (or, for the read-only commands, a folder the operator names).
 * Shared by every report writer (inventory, preflight, batches, final): one place decides where reports live.
 * Files are written to a temporary name and renamed, so a reader never sees a half-written report.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MigrationSpec } from '../config/spec';
import { workerIdentity } from '../worker/identity';
import { storeReportCopy } from './reportStore';

/** Absolute paths of the two files written (on the disk of `writtenBy`, when a worker wrote them). */
export interface WrittenReport {
  jsonPath: string;
  markdownPath: string;
  /** The worker whose disk holds the files (its identity, `<pid>@<host>` by default). */
  writtenBy?: string;
  /** Set when the copy in the target's report store (reportStore.ts) could not be written: why. */
  storeError?: string;
}

/**
 * `<reports.dir>/<spec.name>` (absolute): the folder holding every report of one migration on this host. A worker's
 * own reports folder (`KM_REPORTS_DIR`, its `--reports-dir`) replaces the spec's `reports.dir`: the spec's folder is
 * the operator's, and need not exist on the host of a worker.
 */
export function migrationReportDir(spec: Pick<MigrationSpec, 'name' | 'reports'>): string {
  return resolve(process.env.KM_REPORTS_DIR?.trim() || spec.reports.dir, spec.name);
}

const SAFE_STEM = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** True for a name writeReport accepts (src/workflows/ids.ts batchFileStem always produces one). */
export function isSafeFileStem(stem: string): boolean {
  return SAFE_STEM.test(stem) && stem.length <= 200;
}

/** Writes `<reports.dir>/<name>/<fileStem>.json` and `.md`; returns both absolute paths. */
export function writeReport(input: {
  spec: Pick<MigrationSpec, 'name' | 'reports'>;
  fileStem: string;
  json: unknown;
  markdown: string;
}): WrittenReport {
  return writeReportIn(migrationReportDir(input.spec), input.fileStem, input.json, input.markdown);
}

/**
 * What a worker's activities call: writeReport, then the same report into the target's report store, so that
 * `kafka-migrate report` finds it on any machine. Storing is best effort (storeReportCopy): its failure is
 * returned in `storeError`, never thrown.
 */
export async function writeAndStoreReport(input: {
  spec: Pick<MigrationSpec, 'name' | 'reports' | 'target'>;
  fileStem: string;
  json: unknown;
  markdown: string;
}): Promise<WrittenReport> {
  const files = writeReport(input);
  const writtenBy = workerIdentity();
  const stored = await storeReportCopy(input.spec, {
    fileStem: input.fileStem,
    content: { markdown: input.markdown, json: input.json },
    writtenBy,
    paths: files,
  });
  return { ...files, writtenBy, ...(stored.stored ? {} : { storeError: stored.error.slice(0, 300) }) };
}

/** Writes `<dir>/<fileStem>.json` and `<dir>/<fileStem>.md` into any folder (the read-only commands' --out). */
export function writeReportIn(dir: string, fileStem: string, json: unknown, markdown: string): WrittenReport {
  if (!isSafeFileStem(fileStem)) {
    throw new Error(`report file stem "${fileStem}" must be letters, digits, dots, dashes or underscores (no path separators)`);
  }
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  const jsonPath = join(abs, `${fileStem}.json`);
  const markdownPath = join(abs, `${fileStem}.md`);
  writeAtomically(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  writeAtomically(markdownPath, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return { jsonPath, markdownPath };
}

function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
