/** Types shared by workflows, activities, the worker and the CLI (type-only: safe in workflow code). */
export * from './connectivity';
export * from './migration';
export * from './batch';
export * from './inventory';
export * from './plan';
export * from './preflight';
export * from './copy';
export * from './cutover';
export * from './verify';
export * from './resume';
export * from './newTopics';
export * from './rollback';
