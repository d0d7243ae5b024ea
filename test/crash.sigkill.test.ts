/**
 * Crash safety at the process level: the real worker runs as its own OS process and is SIGKILLed three times
 * at random points of the copy and once during the cutover (after producersStopped: quiet check or drain),
 * and restarted each time, while a producer writes to the source. The migration must complete, its own
 * verification must pass, and an independent full read of both clusters must find every source record on the
 * target exactly once, in order, with every consumer group offset pointing at the copy of the same record.
 * Replay a failing run with KM_CRASH_SEED=<seed> (printed in the log).
 */
import { buildWorker } from './helpers/workerProcess';
import { runCrashScenario } from './helpers/crashScenario';

const seed = Number(process.env.KM_CRASH_SEED ?? Math.floor(Math.random() * 1e9));

beforeAll(() => {
  buildWorker(); // tsc into a private dist, a few seconds
}, 120000);

test(
  'SIGKILLs of the worker process mid-copy and mid-cutover: nothing lost, nothing duplicated, exact group offsets',
  async () => {
    const outcome = await runCrashScenario({
      label: 'crash',
      seed,
      world: { topics: 3, partitions: 4, recordsPerPartition: 20000, valueBytes: 100, trimmedRecords: 500 },
      copyFaults: [{ kind: 'kill-worker' }, { kind: 'kill-worker' }, { kind: 'kill-worker' }],
      copyRange: [0.08, 0.8],
      afterProducersStopped: { faults: [{ kind: 'kill-worker' }], maxDelayMs: 3500 },
      afterConsumersStopped: { faults: [], maxDelayMs: 0 },
      duringVerification: { faults: [], maxDelayMs: 0 },
      steady: { perPartition: 20, intervalMs: 250 },
      burstPerPartition: 2500,
      throttleBytesPerSecond: 0,
      maxBatchBytes: 256 * 1024,
      timeoutMs: 8 * 60 * 1000,
    });
    console.log(`${outcome.log.join('\n')}\nworker log: ${outcome.workerLog}`);

    expect(outcome.status.phase).toBe('completed');
    expect(outcome.workerKills).toBeGreaterThanOrEqual(4);
    expect(outcome.workerCrashes).toEqual([]);
    expect(outcome.injected.filter((f) => f.phase === 'copy')).toHaveLength(3);
    expect(outcome.injected.filter((f) => f.phase.startsWith('cutover'))).toHaveLength(1);

    // The tool's own verification.
    expect(outcome.verification?.mismatches).toEqual([]);
    expect(outcome.verification?.ok).toBe(true);

    // The independent audit: every record exactly once, in order; the offsets exact.
    const audit = outcome.audit!;
    expect(audit.sourceRecords).toBeGreaterThan(3 * 4 * (20000 + 2500 - 500));
    expect({ lost: audit.lost, duplicated: audit.duplicated, foreign: audit.foreign, inexact: audit.inexactPartitions }).toEqual({
      lost: 0,
      duplicated: 0,
      foreign: 0,
      inexact: [],
    });
    expect(audit.targetRecords).toBe(audit.sourceRecords);
    expect(audit.groupOffsets.length).toBe(2 * 3 * 4);
    expect(audit.wrongGroupOffsets).toEqual([]);
    // The trimmed topic's offsets really needed translating.
    expect(audit.groupOffsets.some((g) => g.source !== g.target)).toBe(true);
  },
  10 * 60 * 1000,
);
