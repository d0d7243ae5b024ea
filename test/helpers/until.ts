/** Polls `read` until `pred` holds (errors while a workflow has not started yet are retried). */
export async function until<T>(read: () => Promise<T>, pred: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (pred(last)) return last;
    } catch {
      // the workflow may not have started yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
