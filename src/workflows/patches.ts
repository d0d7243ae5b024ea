/**
 * Every workflow code change that alters the commands a running migration sends is guarded by one of these
 * patch ids (`patched(id)`): a worker of the new code replays a history recorded by the old code (no marker, the
 * old path) and takes the new path from the next command on. Procedure (README, "Upgrading while migrations run"):
 *   1. add the id here and guard the change with `if (patched(ID)) { new } else { old }`;
 *   2. once no run started before the change is open, replace it by `deprecatePatch(ID)` and drop the old path;
 *   3. once no run that used `patched(ID)` is open, remove the call and the id.
 * The replay fixtures under test/replay/ are histories of older code: they must keep replaying.
 */

/** The batch workflow continues as new between two steps (not only between follow rounds). */
export const CONTINUE_AS_NEW_BETWEEN_STEPS = 'km-continue-as-new-between-steps';

/** A batch tells its migration which topic the operator excluded (a restarted child leaves it out). */
export const TOPIC_EXCLUDED_MILESTONE = 'km-topic-excluded-milestone';

/** ... and tells it before deleting the topic's target copy (a run ending during the deletion kept the topic). */
export const TOPIC_EXCLUDED_BEFORE_DELETE = 'km-topic-excluded-before-delete';

/** The migration workflow continues as new between two batches once its history is long. */
export const MIGRATION_CONTINUE_AS_NEW = 'km-migration-continue-as-new';

/** A workflow that still fails (a defect outside the step machine) sets KmPhase `failed` first. */
export const KM_PHASE_ON_FAILURE = 'km-phase-on-failure';

/** A batch whose clients moved gets a rollback window (child rollbackWindowWorkflow); the migration ends once every window closed. */
export const ROLLBACK_WINDOW = 'km-rollback-window';

/** The drain copies only the partitions the last completed round left behind the quiet check's end offsets. */
export const DRAIN_ONLY_BEHIND = 'km-drain-only-behind';

/** After the quiet check, partitions are refreshed only when the check saw one the batch did not copy yet. */
export const REFRESH_ONLY_WHEN_SOURCE_GREW = 'km-refresh-only-when-source-grew';

/** A follow round is not started when an operator action arrived while the partitions were refreshed. */
export const NO_ROUND_AFTER_ACTION = 'km-no-round-after-action';

/** A completed batch with a rollback window keeps its cutover fence: the window replaces it with its own (no gap). */
export const WINDOW_TAKES_CUTOVER_FENCE = 'km-window-takes-cutover-fence';

/** A rollback window fences the batch's source topics for everyone but the migrator while it is open. */
export const WINDOW_FENCE = 'km-window-fence';

/** A rollback window blocked while open still expires at its time (it waited for a decision forever). */
export const WINDOW_EXPIRES_WHILE_BLOCKED = 'km-window-expires-while-blocked';

/**
 * A follow round cancelled by an operator action whose activity then failed (e.g. KafkaUnavailable while a broker was
 * down: Temporal does not retry a cancel-requested activity) is over like a cancelled one: it no longer blocks the step.
 */
export const CANCELLED_ROUND_FAILURE_ENDS_ROUND = 'km-cancelled-round-failure-ends-round';

/**
 * An operator action that arrives while the partitions are refreshed between two follow rounds is taken at once: the
 * refresh finishes in the background and is awaited before anything uses the partitions (it cost ~300 ms of pause).
 */
export const ACTION_DOES_NOT_WAIT_FOR_REFRESH = 'km-action-does-not-wait-for-refresh';
