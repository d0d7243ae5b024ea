/** Activities over the batch ledger: what `resume` adopts from an earlier run of the same migration. */
import type { MigrationSpec } from '../config/spec';
import { createKafka } from '../kafka/clients';
import { toKafkaFailure } from '../kafka/errors';
import { ensureLedgerTopic, readLedger, writeLedgerEntry } from '../resume/batchLedger';
import type { LedgerEntry } from '../types/resume';

export async function recordBatchLedger(input: { spec: MigrationSpec; entry: LedgerEntry }): Promise<void> {
  const { spec } = input;
  try {
    const target = createKafka(spec.target, 'target', { clientIdSuffix: 'ledger' });
    await ensureLedgerTopic(target, spec.target.replicationFactor);
    await writeLedgerEntry(target, spec.name, input.entry);
  } catch (e) {
    throw toKafkaFailure(e, spec.target, 'target', 'recordBatchLedger');
  }
}

export async function readBatchLedger(input: { spec: MigrationSpec }): Promise<LedgerEntry[]> {
  const { spec } = input;
  try {
    return await readLedger(createKafka(spec.target, 'target', { clientIdSuffix: 'ledger' }), spec.name);
  } catch (e) {
    throw toKafkaFailure(e, spec.target, 'target', 'readBatchLedger');
  }
}
