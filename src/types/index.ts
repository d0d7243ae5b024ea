/** Types shared by workflows, activities, the worker and the CLI (type-only: safe in workflow code). */
export * from './connectivity';
export * from './migration';
