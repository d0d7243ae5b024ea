/** `status` never prints another host's local path as if it were the operator's (src/cli/statusView.ts reportLines). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportLines } from '../src/cli/statusView';

test('a report path this machine has is printed as it is; one only a worker has is named as the worker’s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-status-reports-'));
  const here = join(dir, 'preflight.md');
  writeFileSync(here, '# preflight\n');
  const elsewhere = '/var/lib/kafka-migrate/reports/orders/batch-1-orders-verification.md';
  expect(reportLines({ preflight: here })).toEqual(['Reports', `  preflight: ${here}`]);
  expect(reportLines({ preflight: here, verification: elsewhere })).toEqual([
    'Reports (paths on the disks of the workers that wrote them)',
    `  preflight: ${here}`,
    "  verification: batch-1-orders-verification.md (on a worker's disk, not on this machine)",
  ]);
});
