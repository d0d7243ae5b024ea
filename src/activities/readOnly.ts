/**
 * Activities of the read-only looks (`kafka-migrate preflight|inventory -f spec`, the stored reports of `report`;
 * src/workflows/readOnly.ts): they
 * run on a worker, which has the secrets and the broker access, so the operator's machine needs neither. Their
 * answers travel gzip-compressed (an inventory of thousands of partitions is megabytes of JSON; Temporal's payload
 * limit is 2 MB) and write nothing: the CLI decides where the report goes.
 */
import { gzipSync } from 'node:zlib';
import type { ClusterConnection, MigrationSpec } from '../config/spec';
import { readStoredReports } from '../reports/reportStore';
import type { StoredReportManifest } from '../reports/reportStoreFormat';
import { takeInventory } from './inventory';

/** JSON, gzipped: what a look's activity and workflow return (the CLI reads it with unpackLookResult). */
export function packLookResult(value: unknown): Uint8Array {
  return new Uint8Array(gzipSync(Buffer.from(JSON.stringify(value))));
}

/** The full inventory of the source, packed; nothing written anywhere. */
export async function inventoryLook(input: { spec: MigrationSpec }): Promise<Uint8Array> {
  return packLookResult(await takeInventory(input.spec));
}

/** One report as the stored-reports look returns it: its Markdown and JSON, or why not (e.g. never stored). */
export interface LookedReport {
  fileStem: string;
  manifest?: Omit<StoredReportManifest, 'format'>;
  markdown?: string;
  json?: unknown;
  error?: string;
}

/** What one stored-reports look returns (packed): the reports that fit, and the stems left for the next look. */
export interface StoredReportsPage {
  reports: LookedReport[];
  rest: string[];
}

/**
 * Gzipped size one look may return: Temporal refuses payloads over 2 MB (the activity's result, then the look's),
 * so the CLI pages: reports beyond this wait in `rest` for its next look. The stored size (gzip of the Markdown and
 * the JSON) is the measure.
 */
export const LOOK_PAGE_BYTES = 1_500_000;

/**
 * The stored reports of a migration that the CLI asks for (src/reports/reportStore.ts), read on a worker, packed. A
 * report too large for one page on its own comes as its Markdown only, or as an error naming where its files are.
 */
export async function storedReportsLook(input: { target: ClusterConnection; migration: string; fileStems: string[]; pageBytes?: number }): Promise<Uint8Array> {
  const budget = input.pageBytes ?? LOOK_PAGE_BYTES;
  const stored = await readStoredReports(input.target, input.migration, input.fileStems);
  const page: StoredReportsPage = { reports: [], rest: [] };
  let used = 0;
  for (const fileStem of input.fileStems) {
    const r = stored.get(fileStem);
    if (!r) {
      page.reports.push({ fileStem, error: 'not in the report store on the target (never stored, or its worker could not reach the target)' });
      continue;
    }
    const { format: _format, ...manifest } = r.manifest ?? ({ format: 0 } as StoredReportManifest);
    const described = r.manifest ? { manifest } : {};
    if ('error' in r) {
      page.reports.push({ fileStem, ...described, error: r.error });
      continue;
    }
    const size = r.manifest.gzipBytes;
    if (used + size <= budget) {
      page.reports.push({ fileStem, ...described, markdown: r.content.markdown, json: r.content.json });
      used += size;
    } else if (used > 0) {
      page.rest.push(fileStem); // the next look brings it
    } else {
      const mdSize = gzipSync(Buffer.from(r.content.markdown)).length;
      page.reports.push(
        mdSize <= budget
          ? { fileStem, ...described, markdown: r.content.markdown, error: `its JSON is too large to bring through Temporal (${size} bytes gzipped)` }
          : {
              fileStem,
              ...described,
              error: `too large to bring through Temporal (${size} bytes gzipped): read ${r.manifest.paths.markdownPath} on ${r.manifest.writtenBy}`,
            },
      );
      used += mdSize <= budget ? mdSize : 0;
    }
  }
  return packLookResult(page);
}
