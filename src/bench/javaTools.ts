/** Runs Kafka's own Java tools (ProducerPerformance, MirrorMaker 2) from the stack's jar directories. */
import { spawn, type ChildProcess } from 'node:child_process';
import { jars } from './settings';

export interface JavaRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function javaArgs(libs: string, mainClass: string, args: string[], heap: string): string[] {
  return [`-Xmx${heap}`, '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${jars.log4j}`, '-cp', `${libs}/*`, mainClass, ...args];
}

/** Starts a Java main class; the caller owns the process (and must stop it). */
export function startJava(libs: string, mainClass: string, args: string[], heap = '256m'): ChildProcess {
  return spawn('java', javaArgs(libs, mainClass, args, heap), { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a Java main class to completion; rejects with its stderr tail when it exits non-zero. */
export function runJava(libs: string, mainClass: string, args: string[], heap = '256m'): Promise<JavaRun> {
  return new Promise((resolve, reject) => {
    const child = startJava(libs, mainClass, args, heap);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20000)));
    child.on('error', (e) => reject(new Error(`could not run java ${mainClass} (is a JDK 11+ on the PATH?): ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve({ code, stdout, stderr });
      else reject(new Error(`java ${mainClass} exited with ${code}: ${stderr.trim().split('\n').slice(-8).join('\n')}`));
    });
  });
}

/** Stops a Java process started here: SIGTERM (MirrorMaker shuts down cleanly), SIGKILL after the grace time. */
export async function stopJava(child: ChildProcess, graceMs = 15000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
