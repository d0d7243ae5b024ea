/**
 * Which decoded entries of one fetch response a consumer sees, as Kafka's Java consumer decides it:
 * - control batches (transaction markers) are never records;
 * - read_committed: the broker lists, per response, the aborted transactions overlapping the fetched range
 *   as { producerId, firstOffset }. Walking entries in offset order, a transaction becomes aborted once its
 *   firstOffset is reached (<= the entry's last offset) and stays so until that producer's abort marker; a
 *   transactional entry of an aborted producer is skipped. Everything else is visible.
 * - read_uncommitted: every data entry is visible.
 * Written apart from the copy engine's version (src/copy/partitionReader.ts, committedRecords).
 */
import type { DecodedEntry } from './record';

export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

const ABORT = 0;

export class CommittedFilter {
  private readonly pending: AbortedTransaction[];
  private readonly aborted = new Set<number>();

  constructor(
    private readonly readCommitted: boolean,
    abortedTransactions: AbortedTransaction[],
  ) {
    this.pending = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Call for every entry of the response, in order: true when its records are visible. */
  visible(entry: DecodedEntry): boolean {
    while (this.pending.length > 0 && this.pending[0].firstOffset <= entry.lastOffset) this.aborted.add(this.pending.shift()!.producerId);
    if (entry.control) {
      if (entry.controlType === ABORT) this.aborted.delete(entry.producerId);
      return false;
    }
    if (this.readCommitted && entry.transactional && this.aborted.has(entry.producerId)) return false;
    return true;
  }
}
