/** Where commands write: the process by default, a buffer in tests (the CLI runs in-process there). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Redraw in place (--watch) only on a terminal; elsewhere frames are appended. */
  isTTY: boolean;
  /** Waits between --watch frames; tests may shorten it. */
  sleep(ms: number): Promise<void>;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: !!process.stdout.isTTY,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
