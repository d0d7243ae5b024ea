/** Every workflow the worker registers (this file is the workflow bundle's entry point). */
export { migrationWorkflow } from './migration';
export { batchWorkflow } from './batch';
export { rollbackWindowWorkflow } from './rollbackWindow';
export { preflightLookWorkflow, inventoryLookWorkflow, storedReportsLookWorkflow } from './readOnly';
