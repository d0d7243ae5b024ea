/**
 * The bytes of record data one worker process may hold for copying, shared by every copy running in it.
 *
 * Each copy run has its own read-ahead and its own writes in flight; without a shared bound their sum grows with
 * the number of concurrent copyRound activities (a batch of 200 partitions runs 25 of them), which is how a
 * worker runs out of memory. Here a fetch reserves room before it is sent, the decoded records are charged for
 * what they really cost, and that charge is released only when the target acknowledged the records (or the run
 * ends): data waiting to be read, decoded, encoded and in flight all count against one limit.
 *
 * Waiters are served in arrival order so that one busy copy cannot starve the others.
 */
export const DEFAULT_COPY_MEMORY_BYTES = 128 * 1024 * 1024;

/** Heap cost of one decoded record beyond its bytes: the record object and its key/value/header slices. */
const RECORD_OVERHEAD_BYTES = 320;

/**
 * Bytes a record holds per byte of its own from fetch to acknowledgement: its bytes in the fetched buffer, then,
 * while its produce request is in flight, the encoded batch, the request body and kafkajs' framed copy of it
 * (a power-of-two buffer, up to twice the body, kept until the response).
 */
export const BYTES_HELD_PER_RECORD_BYTE = 5;

/** What a fetched record holds of the budget until the target acknowledged it. */
export function recordCost(recordBytes: number): number {
  return BYTES_HELD_PER_RECORD_BYTE * recordBytes + RECORD_OVERHEAD_BYTES;
}

interface Waiter {
  min: number;
  want: number;
  resolve: (granted: number) => void;
}

export class MemoryBudget {
  private usedBytes = 0;
  private peakBytes = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limitBytes: number) {
    if (!(limitBytes > 0)) throw new Error(`copy memory budget must be a positive number of bytes, got ${limitBytes}`);
  }

  get used(): number {
    return this.usedBytes;
  }

  /** The most ever held at once (for the benchmark and tests). */
  get peak(): number {
    return this.peakBytes;
  }

  /**
   * Waits (in arrival order) until at least `min` bytes are free, then reserves as much of `want` as is free.
   * `min` is capped at the limit, so one oversized request still proceeds once everything else is released.
   */
  reserve(min: number, want: number, signal?: AbortSignal): Promise<number> {
    const need = Math.min(Math.max(min, 1), this.limitBytes);
    const most = Math.max(want, need);
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    if (this.waiters.length === 0 && this.free() >= need) return Promise.resolve(this.grant(need, most));
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        reject(signal!.reason ?? new Error('aborted'));
        this.serve();
      };
      const waiter: Waiter = {
        min: need,
        want: most,
        resolve: (granted) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(granted);
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Charges bytes without waiting (what a response really cost beyond its reservation); may exceed the limit. */
  charge(bytes: number): void {
    if (bytes <= 0) return;
    this.usedBytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.usedBytes);
  }

  release(bytes: number): void {
    if (bytes <= 0) return;
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
    this.serve();
  }

  private free(): number {
    return this.limitBytes - this.usedBytes;
  }

  private grant(min: number, want: number): number {
    const granted = Math.max(min, Math.min(want, this.free()));
    this.charge(granted);
    return granted;
  }

  private serve(): void {
    while (this.waiters.length && this.free() >= this.waiters[0].min) {
      const w = this.waiters.shift()!;
      w.resolve(this.grant(w.min, w.want));
    }
  }
}

let processBudget: MemoryBudget | undefined;

/**
 * The worker process's budget: KM_COPY_MEMORY_MB (MiB) when set, else 128 MiB, which keeps a worker under
 * 512 MB RSS however many copies run (see docs/BENCHMARKS.md).
 */
export function processCopyBudget(): MemoryBudget {
  if (!processBudget) {
    const raw = process.env.KM_COPY_MEMORY_MB;
    const mb = raw === undefined || raw === '' ? undefined : Number(raw);
    if (mb !== undefined && !(Number.isFinite(mb) && mb >= 16)) {
      throw new Error(`KM_COPY_MEMORY_MB must be a number of MiB >= 16 (the copy's memory budget per worker process), got "${raw}"`);
    }
    processBudget = new MemoryBudget(mb !== undefined ? mb * 1024 * 1024 : DEFAULT_COPY_MEMORY_BYTES);
  }
  return processBudget;
}
