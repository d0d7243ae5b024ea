/**
 * The real kafka-migrate worker as a separate OS process (the compiled `worker/main.js`), on a private task
 * queue, so that tests can SIGKILL it at any instant and start it again, exactly as a crashed pod would be.
 * Every incarnation appends to one log file, separated by a marker line naming its pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
/** A private build: other engineers' `npm run build` into dist/ cannot swap files under a starting worker. */
export const WORKER_DIST = resolve(ROOT, '.stack/cache/worker-process-dist');
const READY_LINE = '[worker] polling';

let built = false;

/**
 * Compiles src/ (tsconfig.json) into WORKER_DIST once per test process. Type errors in files other people are
 * editing do not stop the emit; only a missing worker entry point fails.
 */
export function buildWorker(): string {
  const main = resolve(WORKER_DIST, 'worker/main.js');
  if (built && existsSync(main)) return main;
  const startedMs = Date.now();
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', WORKER_DIST], { cwd: ROOT, stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    const out = String((e as { stdout?: string }).stdout ?? e);
    if (!existsSync(main) || statSync(main).mtimeMs < startedMs) throw new Error(`building the worker failed:\n${out.slice(0, 4000)}`);
    console.warn(`[workerProcess] tsc reported type errors (emitted anyway):\n${out.slice(0, 1500)}`);
  }
  built = true;
  return main;
}

export interface WorkerProcessOptions {
  taskQueue: string;
  logFile: string;
  /** Extra environment for the worker (TEMPORAL_ADDRESS etc. are inherited). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** Start the worker again when it exits on its own (as a deployment restarts a crashed pod). */
  supervise?: boolean;
  /** Another worker entry point (e.g. the `kafka-migrate-worker` of an installed package) and its working directory. */
  main?: string;
  cwd?: string;
}

export interface WorkerEvent {
  at: string;
  kind: 'start' | 'kill' | 'stop' | 'exit' | 'unexpected-exit';
  pid: number;
  detail?: string;
}

const live = new Set<ChildProcess>();
// A test that fails (or a jest timeout) must not leave workers polling the task queue.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class WorkerProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  /** Set while we kill or stop the worker ourselves. */
  private exitExpected = false;
  private supervising?: Promise<void>;
  readonly events: WorkerEvent[] = [];

  constructor(private readonly options: WorkerProcessOptions) {
    mkdirSync(dirname(options.logFile), { recursive: true });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get kills(): number {
    return this.events.filter((e) => e.kind === 'kill').length;
  }

  /** Exits nobody asked for (the worker crashed or gave up on its own). */
  get unexpectedExits(): WorkerEvent[] {
    return this.events.filter((e) => e.kind === 'unexpected-exit');
  }

  /** Spawns the worker and resolves once it polls its task queue. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`worker pid ${this.pid} is already running`);
    this.exitExpected = false;
    const main = this.options.main ?? buildWorker();
    const logOffset = existsSync(this.options.logFile) ? statSync(this.options.logFile).size : 0;
    const fd = openSync(this.options.logFile, 'a');
    const child = spawn(process.execPath, [main], {
      cwd: this.options.cwd ?? ROOT,
      env: { ...process.env, ...this.options.env, KM_TASK_QUEUE: this.options.taskQueue },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        const unexpected = !this.exitExpected;
        this.record(unexpected ? 'unexpected-exit' : 'exit', child.pid ?? -1, signal ?? `code ${code}`);
        resolveExit();
        if (unexpected && this.options.supervise && this.child === child) {
          this.supervising = new Promise((r) => setTimeout(r, 1000)).then(() => (this.running ? undefined : this.start())).catch(() => undefined);
        }
      });
    });
    this.record('start', child.pid ?? -1);
    await this.waitReady(child, logOffset);
  }

  /** Kills the worker with `signal` (SIGKILL: no shutdown hook, no heartbeat, no flush) and waits for its exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', detail?: string): Promise<void> {
    await this.supervising;
    if (!this.running) throw new Error('no worker process to kill');
    this.exitExpected = true;
    this.record('kill', this.child!.pid!, `${signal}${detail ? `: ${detail}` : ''}`);
    this.child!.kill(signal);
    await this.exited;
  }

  async restart(): Promise<void> {
    if (this.running) await this.kill();
    await this.start();
  }

  /** Graceful stop (SIGTERM drains in-flight tasks), SIGKILL after the timeout. */
  async stop(timeoutMs = 20000): Promise<void> {
    await this.supervising;
    if (!this.running) return;
    this.exitExpected = true;
    const child = this.child!;
    this.record('stop', child.pid!);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last lines of the log (all incarnations), for failure messages. */
  logTail(lines = 40): string {
    if (!existsSync(this.options.logFile)) return '(no log)';
    return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  private record(kind: WorkerEvent['kind'], pid: number, detail?: string): void {
    const event = { at: new Date().toISOString(), kind, pid, detail };
    this.events.push(event);
    appendFileSync(this.options.logFile, `\n===== ${event.at} worker ${kind} pid ${pid}${detail ? ` (${detail})` : ''} =====\n`);
  }

  private async waitReady(child: ChildProcess, logOffset: number): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 90000);
    for (;;) {
      const log = readFileSync(this.options.logFile, 'utf8').slice(logOffset);
      if (log.includes(READY_LINE)) return;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `worker pid ${child.pid} exited during start-up (${child.signalCode ?? child.exitCode}); log ${this.options.logFile}:\n${log.slice(-3000)}`,
        );
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `worker pid ${child.pid} did not poll ${this.options.taskQueue} within ${(this.options.startTimeoutMs ?? 90000) / 1000}s; log ${this.options.logFile}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
