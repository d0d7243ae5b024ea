import { createTopicsReady } from '../../src/kafka/topicsReady';
/** Drives the CLI in-process and waits on migration workflows, for the operator-facing integration tests. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Io } from '../../src/cli/io';
import { run } from '../../src/cli/main';
import type { MigrationStatus } from '../../src/types';
import { statusQuery } from '../../src/workflows/messages';
import { sourceAdminKafka, STACK_DIR } from './stack';

export interface CapturedIo extends Io {
  stdout(): string;
  stderr(): string;
}

export function captureIo(): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (s) => void out.push(s),
    err: (s) => void err.push(s),
    isTTY: false,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}

/** Runs one kafka-migrate command line against the given task queue; returns its exit code and output. */
export async function cli(taskQueue: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await run(['--task-queue', taskQueue, ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const WAITING_OR_DONE = (s: MigrationStatus) => !!s.waitingFor || ['completed', 'aborted', 'failed'].includes(s.phase);

/** Polls the status query until the migration waits for an operator (or ends). */
export async function waitForOperatorWait(client: Client, workflowId: string, timeoutMs = 120_000): Promise<MigrationStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: MigrationStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await client.workflow.getHandle(workflowId).query(statusQuery);
    } catch {
      /* the first workflow task may not have run yet */
    }
    if (last?.phase === 'failed') throw new Error(`${workflowId} failed before waiting for an operator: ${last.error}`);
    if (last && WAITING_OR_DONE(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${workflowId} did not wait for an operator within ${timeoutMs / 1000}s (last phase ${last?.phase ?? 'unknown'})`);
}

/** Creates a small topic on the source (super-user listener) with a few records. */
export async function createSourceTopic(topic: string, records = 5): Promise<void> {
  const kafka = sourceAdminKafka();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ retry: { retries: 10, initialRetryTime: 300 } });
  await producer.connect();
  try {
    await producer.send({ topic, messages: Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  } finally {
    await producer.disconnect();
  }
}

/** The workflow's full history, exported by the Temporal CLI as an operator would. */
/**
 * The workflow's history as the Temporal CLI exports it, followed by every payload decoded from base64 (the CLI
 * prints payload data encoded), so that a search sees both the raw export and what the payloads carry.
 */
export function exportHistoryWithTemporalCli(workflowId: string): string {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const exported = execFileSync(
    resolve(STACK_DIR, 'bin/temporal'),
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', address],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const decoded: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.metadata && typeof o.data === 'string') decoded.push(Buffer.from(o.data, 'base64').toString('utf8'));
      Object.values(o).forEach(walk);
    }
  };
  walk(JSON.parse(exported));
  return `${exported}\n${decoded.join('\n')}`;
}
