/** `status` never prints another host's local path as if it were the operator's (src/cli/statusView.ts reportLines). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportLines } from '../src/cli/statusView';

const HEADER = "Reports (on the disks of the workers that wrote them; `kafka-migrate report` gathers them from the target's report store)";

test('a report path is printed only with the worker that wrote it; without a recorded writer only its name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-status-reports-'));
  const here = join(dir, 'preflight.md');
  writeFileSync(here, '# preflight\n');
  const elsewhere = '/var/lib/kafka-migrate/reports/orders/batch-1-orders-verification.md';
  expect(reportLines({ preflight: here, verification: elsewhere }, { preflight: '42@ops-1', verification: 'worker-b@host-b' })).toEqual([
    HEADER,
    `  preflight: ${here} on worker 42@ops-1`,
    `  verification: ${elsewhere} on worker worker-b@host-b`,
  ]);
  // A run from before writers were recorded: a file at the same path here may be another run's, so only names.
  expect(reportLines({ preflight: here, verification: elsewhere })).toEqual([
    HEADER,
    "  preflight: preflight.md (on a worker's disk; a file of that path is on this machine too)",
    "  verification: batch-1-orders-verification.md (on a worker's disk)",
  ]);
});
