/** What the batch ledger (src/resume/batchLedger.ts) keeps of a batch, for `resume`. */
export interface LedgerEntry {
  /** The batch's number and name in the run that wrote the entry (for reports; matching is by topics). */
  number: number;
  name: string;
  /** The batch's topics as planned (the ledger key): excluded ones too, so that a resumed plan matches it. */
  topics: string[];
  /** Topics the operator excluded from the batch: not migrated, and never copied or verified on resume. */
  excludedTopics?: string[];
  /**
   * clientsMoved: clients may use the target (the batch cannot be copied or cut over again, only verified);
   * completed / accepted-with-mismatches: the batch ended and was verified (or its mismatches accepted);
   * rolled-back: its rollback window moved it back to the source (written by the window; resume never copies it again).
   */
  state: 'clientsMoved' | 'completed' | 'accepted-with-mismatches' | 'rolled-back';
  at: string;
  workflowId: string;
}
