/**
 * KmPhase on every end state: the step machines end in completed / aborted and wait in blocked on every fault, but a
 * defect outside them (e.g. in the code that handles a block) could still fail the workflow. It then sets KmPhase
 * `failed` first, so that a visibility query (`KmPhase="failed"`) finds it. Workflow-safe.
 */
import { ContinueAsNew, isCancellation, patched, upsertSearchAttributes } from '@temporalio/workflow';
import { KM_PHASE_ON_FAILURE } from './patches';
import { KM_PHASE } from './searchAttributes';

export async function failedPhaseOnError<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (e) {
    if (!(e instanceof ContinueAsNew) && !isCancellation(e) && patched(KM_PHASE_ON_FAILURE)) upsertSearchAttributes([{ key: KM_PHASE, value: 'failed' }]);
    throw e;
  }
}
