/**
 * Activities of the read-only looks (`kafka-migrate preflight|inventory -f spec`, src/workflows/readOnly.ts): they
 * run on a worker, which has the secrets and the broker access, so the operator's machine needs neither. Their
 * answers travel gzip-compressed (an inventory of thousands of partitions is megabytes of JSON; Temporal's payload
 * limit is 2 MB) and write nothing: the CLI decides where the report goes.
 */
import { gzipSync } from 'node:zlib';
import type { MigrationSpec } from '../config/spec';
import { takeInventory } from './inventory';

/** JSON, gzipped: what a look's activity and workflow return (the CLI reads it with unpackLookResult). */
export function packLookResult(value: unknown): Uint8Array {
  return new Uint8Array(gzipSync(Buffer.from(JSON.stringify(value))));
}

/** The full inventory of the source, packed; nothing written anywhere. */
export async function inventoryLook(input: { spec: MigrationSpec }): Promise<Uint8Array> {
  return packLookResult(await takeInventory(input.spec));
}
