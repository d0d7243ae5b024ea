/**
 * Fault injection for the crash and chaos suites: SIGKILLs of the worker process, restarts of the stack's
 * components (scripts/stack.sh restart-component) and scenario actions (a source topic deleted, partitions
 * added, a topic created, a cancellation from Temporal...), placed at random points of the copy by the share of
 * the records already on the target, and a log of what was injected when.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import type { WorkerProcess } from './workerProcess';

export type StackComponent = 'source' | 'target' | 'temporal';
/** `action`: something a scenario does to the clusters or the workflow; its answer is logged as what it observed. */
export type Fault =
  { kind: 'kill-worker' } | { kind: 'restart'; component: StackComponent } | { kind: 'action'; name: string; run: () => Promise<string | void> };

export interface InjectedFault {
  fault: string;
  phase: string;
  at: string;
  /** Share of the initial records on the target when injected (copy phase). */
  progress?: number;
  /** How long the injection itself took (kill + restart of the process or component). */
  tookMs: number;
  /** What the probe saw while the worker was dead (e.g. records written beyond the durable checkpoint). */
  observed?: string;
}

export const describeFault = (f: Fault) => (f.kind === 'kill-worker' ? 'SIGKILL worker' : f.kind === 'restart' ? `restart ${f.component}` : f.name);

/** `n` points in [from, to]: one at random in each of n equal segments, so that they spread over the range. */
export function spreadPoints(n: number, from: number, to: number, random: () => number): number[] {
  const width = (to - from) / n;
  return Array.from({ length: n }, (_, i) => from + width * (i + 0.15 + 0.7 * random()));
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function stackScript(...args: string[]): Promise<void> {
  const script = resolve(__dirname, '../../scripts/stack.sh');
  return new Promise((done, fail) => {
    execFile('bash', [script, ...args], { timeout: 5 * 60 * 1000 }, (error, _stdout, stderr) => {
      if (error) fail(new Error(`scripts/stack.sh ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else done();
    });
  });
}

/**
 * Stops and starts one component of the local stack (its data is kept: Temporal keeps its SQLite db). If the
 * script fails after the stop (bash reads a script as it runs: a concurrent edit of stack.sh breaks it), the
 * idempotent `up` brings the component back.
 */
export async function restartComponent(component: StackComponent): Promise<void> {
  try {
    await stackScript('restart-component', component);
  } catch (e) {
    console.warn(`${String(e)}\nbringing the stack up again`);
    await stackScript('up');
  }
}

export class FaultInjector {
  readonly injected: InjectedFault[] = [];
  /** Set when the scenario ends: no fault may be injected after it (e.g. by a copy-phase loop still waiting). */
  stopped = false;

  constructor(
    private readonly worker: WorkerProcess,
    private readonly say: (line: string) => void,
    /** Runs between a worker's death and its restart; its answer is logged with the fault. */
    private readonly probeWhileDead?: () => Promise<string>,
  ) {}

  /** Injects one fault now; resolves when the worker or component is back. */
  async inject(fault: Fault, phase: string, progress?: number): Promise<void> {
    if (this.stopped) throw new Error(`not injecting ${describeFault(fault)}: the scenario has ended`);
    const started = Date.now();
    const at = new Date().toISOString();
    this.say(`inject: ${describeFault(fault)} during ${phase}${progress === undefined ? '' : ` at ${(progress * 100).toFixed(1)}% copied`}`);
    let observed: string | undefined;
    if (fault.kind === 'kill-worker') {
      await this.worker.kill('SIGKILL', phase);
      observed = await this.probeWhileDead?.().catch((e) => `probe failed: ${String(e)}`);
      await this.worker.start();
    } else if (fault.kind === 'restart') {
      await restartComponent(fault.component);
    } else {
      observed = (await fault.run()) || undefined;
    }
    const tookMs = Date.now() - started;
    this.injected.push({ fault: describeFault(fault), phase, at, progress, tookMs, observed });
    this.say(`inject: ${describeFault(fault)} done in ${tookMs} ms${observed ? `; ${fault.kind === 'action' ? 'observed' : 'while dead'}: ${observed}` : ''}`);
  }

  /**
   * Injects `faults[i]` once the copied share reaches `points[i]` (plus a random delay under 0.5 s, so that
   * the kill lands anywhere in a write), in order. The copy must also have moved on by `minStep` since the
   * previous fault was over: every fault hits a copy that resumed after the one before.
   */
  async duringCopy(faults: Fault[], points: number[], progress: () => Promise<number>, random: () => number, timeoutMs: number, minStep = 0.01): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let after = -Infinity;
    for (const [i, fault] of faults.entries()) {
      for (;;) {
        if (this.stopped) return;
        const p = await progress();
        if (p >= points[i] && p >= after + minStep) {
          await new Promise((r) => setTimeout(r, random() * 500));
          await this.inject(fault, 'copy', await progress());
          after = await progress();
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`the copy did not reach ${(points[i] * 100).toFixed(1)}% within ${timeoutMs / 1000}s (at ${(p * 100).toFixed(1)}%)`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
