/** Every activity the worker registers. Names are what the Temporal UI shows: keep them readable. */
export { checkConnectivity } from './connectivity';
export { deleteTargetTopics } from './rollback';
export { writeReportFiles } from './reports';
export { sampleEndOffsets, waitForQuietSource, describeGroups, fenceSourceWrites, unfenceSourceWrites, translateAndCommitOffsets } from './cutover'; export { verifyBatch } from './verify';
export { checkVersions, checkSecurity, checkPermissions, checkAcls, checkEcosystem, checkReachability, checkCapacity, checkTargetState, checkClients, writePreflightReport } from './preflight';
export { collectInventory } from './inventory';
export { createTargetTopics, syncPartitionCounts, copyRound } from './copy';
