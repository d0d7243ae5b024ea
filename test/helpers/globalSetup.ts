/**
 * Runs once before all test files: brings the real local stack up (or reuses a running one, or the clusters
 * and server named by SOURCE_BOOTSTRAP / TARGET_BOOTSTRAP / TEMPORAL_ADDRESS) and bundles the workflows once.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/** KM_BUNDLE_PATH lets parallel jest runs (one per developer) keep bundles of their own. */
export const BUNDLE_PATH = process.env.KM_BUNDLE_PATH ? resolve(process.env.KM_BUNDLE_PATH) : resolve(__dirname, '../../.stack/cache/workflow-bundle.js');

export default async function globalSetup(): Promise<void> {
  if (process.env.KM_SKIP_STACK !== '1') {
    execFileSync('bash', [resolve(__dirname, '../../scripts/stack.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger() });
  mkdirSync(resolve(BUNDLE_PATH, '..'), { recursive: true });
  writeFileSync(BUNDLE_PATH, code);
}

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error };
}
