/** Every activity the worker registers. Names are what the Temporal UI shows: keep them readable. */
import * as copy from './copy';
import * as ledger from './ledger';
import * as cutover from './cutover';
import * as newTopics from './newTopics';
import { keepAlive } from './keepAlive';
import * as verify from './verify';
import * as reports from './reports';
import * as rollback from './rollback';
import * as readOnly from './readOnly';
import * as rollbackWindow from './rollbackWindow';

export { checkConnectivity } from './connectivity';
export {
  checkVersions,
  checkSecurity,
  checkPermissions,
  checkAcls,
  checkEcosystem,
  checkReachability,
  checkCapacity,
  checkTargetState,
  checkClients,
  writePreflightReport,
} from './preflight';
export { collectInventory } from './inventory';
// The read-only looks of `kafka-migrate preflight|inventory -f` (src/workflows/readOnly.ts).
export const inventoryLook = keepAlive(readOnly.inventoryLook);
// The stored reports `kafka-migrate report` cannot read on its own machine (src/reports/reportStore.ts).
export const storedReportsLook = keepAlive(readOnly.storedReportsLook);
export { copyRound } from './copy';
export { waitForQuietSource } from './cutover';
export { verifyBatch } from './verify';
// Heartbeats between verification's own progress reports too: 2,000 partitions spend > 20 s preparing.
export const verifyBatchAndReport = keepAlive(verify.verifyBatchAndReport);

// Short steps of a batch: they heartbeat while running (see keepAlive.ts).
export const createTargetTopics = keepAlive(copy.createTargetTopics);
export const syncPartitionCounts = keepAlive(copy.syncPartitionCounts);
export const sampleEndOffsets = keepAlive(cutover.sampleEndOffsets);
export const describeGroups = keepAlive(cutover.describeGroups);
export const fenceSourceWrites = keepAlive(cutover.fenceSourceWrites);
export const unfenceSourceWrites = keepAlive(cutover.unfenceSourceWrites);
export const translateAndCommitOffsets = keepAlive(cutover.translateAndCommitOffsets);
export const translateOffsetsAndReport = keepAlive(cutover.translateOffsetsAndReport);
export const deleteTargetTopics = keepAlive(rollback.deleteTargetTopics);
export const writeReportFiles = keepAlive(reports.writeReportFiles);
export const recordBatchLedger = keepAlive(ledger.recordBatchLedger);
export const readBatchLedger = keepAlive(ledger.readBatchLedger);
export const findNewTopics = keepAlive(newTopics.findNewTopics);
// The rollback window (src/workflows/rollbackWindow.ts).
export { reverseCopyRound } from './rollbackWindow';
export { waitForQuietTarget } from './rollbackWindow';
export const sampleTargetEndOffsets = keepAlive(rollbackWindow.sampleTargetEndOffsets);
export const translateOffsetsBackAndReport = keepAlive(rollbackWindow.translateOffsetsBackAndReport);
export const verifyRollbackAndReport = keepAlive(rollbackWindow.verifyRollbackAndReport);
export const writeWindowReport = keepAlive(rollbackWindow.writeWindowReport);
export const fenceSourceForWindow = keepAlive(rollbackWindow.fenceSourceForWindow);
export const liftWindowFenceOnSource = keepAlive(rollbackWindow.liftWindowFenceOnSource);
