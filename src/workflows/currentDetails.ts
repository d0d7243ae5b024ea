/**
 * What the Temporal UI shows of a running migration or batch without a query: the workflow's static summary
 * (set when it starts) and its current details (Markdown, `setCurrentDetails`): the phase, what it waits for,
 * the exact CLI command and the signal to send instead (name and JSON input, for the UI's "Send a Signal"),
 * progress with an ETA, and a block's cause. Pure text builders plus `keepCurrentDetails`, which re-renders after
 * every activation in which the text changed (a condition without timeout: no command, no patch). Workflow-safe.
 */
import { CancellationScope, condition, setCurrentDetails } from '@temporalio/workflow';
import type { BatchStatus, MigrationStatus } from '../types';
import type { OperatorActionName } from './messages';

/** The static summary of a migration workflow (one line): its name and the clusters (bootstrap servers, no secret). */
export function migrationStaticSummary(
  spec: { name: string; source: { bootstrapServers: string[] }; target: { bootstrapServers: string[] } },
  resume = false,
): string {
  return `kafka-migrate migration ${spec.name}${resume ? ' (resumed)' : ''}: ${spec.source.bootstrapServers[0]} → ${spec.target.bootstrapServers[0]}`;
}

/** The static summary of a batch workflow (one line): migration, batch and business system. */
export function batchStaticSummary(migration: string, batch: { number: number; name: string; topics: unknown[]; groups: unknown[] }): string {
  return `migration ${migration} · batch ${batch.number} · system ${batch.name} (${batch.topics.length} topics, ${batch.groups.length} groups)`;
}

interface ActionHelp {
  /** The CLI command, with `<name>` and `<n>` replaced. */
  cli: string;
  /** The signal's input (the `by` placeholder is filled in by the operator). */
  payload: Record<string, unknown>;
}

const YOU = '<your name>';
const WHY = '<why>';

/** The CLI command and the signal payload of an action, for a migration (and a batch number when it concerns one). */
export function actionHelp(action: OperatorActionName, migration: string, batch?: number): ActionHelp {
  const b = batch !== undefined ? ` --batch ${batch}` : '';
  const withBatch = batch !== undefined ? { batch } : {};
  const by = `--by "${YOU}"`;
  switch (action) {
    case 'overridePreflight':
      return { cli: `kafka-migrate override ${migration} ${by} --reason "${WHY}"`, payload: { by: YOU, reason: WHY } };
    case 'approvePlan':
      return { cli: `kafka-migrate approve ${migration} --step plan ${by}`, payload: { by: YOU } };
    case 'rejectPlan':
      return { cli: `kafka-migrate reject ${migration} ${by} --reason "${WHY}"`, payload: { by: YOU, reason: WHY } };
    case 'approveCutover':
      return { cli: `kafka-migrate approve ${migration} --step cutover${b} ${by}`, payload: { by: YOU, ...withBatch } };
    case 'approveBatch':
      return { cli: `kafka-migrate approve ${migration} --step batch${b} ${by}`, payload: { by: YOU, ...withBatch } };
    case 'producersStopped':
      return { cli: `kafka-migrate producers-stopped ${migration}${b} ${by}`, payload: { by: YOU, ...withBatch } };
    case 'consumersStopped':
      return { cli: `kafka-migrate consumers-stopped ${migration}${b} ${by}`, payload: { by: YOU, ...withBatch } };
    case 'clientsStopped':
      return { cli: `kafka-migrate clients-stopped ${migration}${b} ${by}`, payload: { by: YOU, ...withBatch } };
    case 'retryVerification':
      return { cli: `kafka-migrate retry-verification ${migration}${b} ${by}`, payload: { by: YOU, ...withBatch } };
    case 'acceptMismatches':
      return { cli: `kafka-migrate accept-mismatches ${migration}${b} ${by} --reason "${WHY}"`, payload: { by: YOU, reason: WHY, ...withBatch } };
    case 'retry':
      return { cli: `kafka-migrate retry ${migration}${b} ${by} --reason "<what was fixed>"`, payload: { by: YOU, reason: '<what was fixed>', ...withBatch } };
    case 'excludeTopic':
      return {
        cli: `kafka-migrate exclude-topic ${migration}${b} --topic <topic> ${by} --reason "${WHY}"`,
        payload: { by: YOU, topic: '<topic>', reason: WHY, ...withBatch },
      };
    case 'abort':
      return { cli: `kafka-migrate abort ${migration} ${by} --reason "${WHY}"`, payload: { by: YOU, reason: WHY } };
  }
}

/**
 * The "what to do" lines: what it waits for, then per expected action its CLI command and its signal with JSON
 * input. Bullets, one line each where the width allows: the UI shows current details in a panel of a few lines.
 */
function waitLines(migration: string, wait: { actions: readonly string[]; reason: string } | undefined, batch?: number): string[] {
  if (!wait) return ['- **Waiting for:** nothing (working on its own)'];
  if (!wait.actions.length) return [`- **Waiting for:** nothing (${wait.reason})`];
  const lines = [`- **Waiting for** ${wait.actions.map((a) => `\`${a}\``).join(' or ')}: ${wait.reason}`];
  for (const a of wait.actions as OperatorActionName[]) {
    const help = actionHelp(a, migration, batch);
    lines.push(`- CLI \`${help.cli}\``, `- or Send a Signal \`${a}\` to this workflow, input \`${JSON.stringify(help.payload)}\``);
  }
  return lines;
}

export function count(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function blockedLine(b: NonNullable<BatchStatus['blocked']>): string {
  const concerned = [
    b.topics?.length ? `topics ${b.topics.slice(0, 5).join(', ')}` : '',
    b.partitions?.length ? `partitions ${b.partitions.slice(0, 5).join(', ')}` : '',
    b.groups?.length ? `groups ${b.groups.slice(0, 5).join(', ')}` : '',
  ].filter(Boolean);
  return `- **Blocked** in \`${b.step}\` since ${b.since}: \`${b.type}\` ${b.error.slice(0, 300)}${concerned.length ? ` (${concerned.join('; ')})` : ''}`;
}

/**
 * The last paragraph: where the full status is. Temporal UI 2.42 sizes the details frame ~30 px short of its content,
 * so the last paragraph is the one that may be cut: this one, not an action.
 */
function fullStatusLine(migration: string): string[] {
  return ['', `_Full status: \`kafka-migrate status ${migration}\`_`];
}

/** The current details of a batch workflow: step, progress, what it waits for and how to give it. */
export function batchDetails(s: BatchStatus, wait: { actions: readonly string[]; reason: string } | undefined): string {
  const t = s.totals;
  const eta = t.etaSeconds === null ? 'unknown' : t.etaSeconds === 0 ? 'caught up' : duration(t.etaSeconds);
  const lines = [
    `**Batch ${s.number} (${s.name})** of migration ${s.migration}: step \`${s.step}\`${s.ready ? ', ready for cutover' : ''}`,
    '',
    ...(s.blocked ? [blockedLine(s.blocked)] : []),
    `- **Progress:** ${count(t.recordsCopied)} records (${bytes(t.bytesCopied)}) copied; lag ${count(t.lagRecords)} records (max ${duration(t.maxLagSeconds)}); ` +
      `${count(t.recordsPerSecond)} records/s; ETA ${eta}; ${t.partitions} partitions, ${s.rounds} rounds`,
    ...waitLines(s.migration, wait, s.number),
  ];
  if (s.writePauseMs !== undefined) lines.push(`- **Write pause:** ${(s.writePauseMs / 1000).toFixed(1)} s`);
  if (s.verification) lines.push(`- **Verification:** ${s.verification.ok ? 'OK' : `${s.verification.mismatchCount} mismatches`}`);
  if (s.excludedTopics?.length) lines.push(`- **Excluded topics:** ${s.excludedTopics.map((x) => x.topic).join(', ')}`);
  const note = s.notes[s.notes.length - 1];
  if (note) lines.push(`- **Latest note:** ${note.slice(0, 200)}`);
  lines.push(...fullStatusLine(s.migration));
  return lines.join('\n');
}

/** The current details of a migration workflow: phase, what it waits for and how to give it, the batches. */
export function migrationDetails(s: MigrationStatus, wait: { actions: readonly string[]; reason: string; batch?: number } | undefined): string {
  const done = s.batches.filter((b) => b.state === 'completed' || b.state === 'accepted-with-mismatches').length;
  const lines = [`**Migration ${s.name}**: phase \`${s.phase}\`${s.batches.length ? `, ${done} of ${s.batches.length} batches done` : ''}`, ''];
  if (s.blocked) lines.push(`${blockedLine(s.blocked)}${s.blocked.batch !== undefined ? ` (batch ${s.blocked.batch}: see its workflow)` : ''}`);
  lines.push(...waitLines(s.name, wait, wait?.batch));
  for (const b of s.batches.slice(0, 20)) {
    const extra = [
      b.recordsCopied !== undefined ? `${count(b.recordsCopied)} records` : '',
      b.writePauseMs !== undefined ? `write pause ${(b.writePauseMs / 1000).toFixed(1)} s` : '',
      b.verification ? (b.verification.ok ? 'verified' : `${b.verification.mismatchCount} mismatches`) : '',
    ].filter(Boolean);
    lines.push(`- batch ${b.number} (${b.name}): ${b.state}${extra.length ? `, ${extra.join(', ')}` : ''}`);
  }
  if (s.batches.length > 20) lines.push(`- ... ${s.batches.length - 20} more batches (\`kafka-migrate status ${s.name}\`)`);
  if (!s.batches.length && s.inventory)
    lines.push(`- **Inventory:** ${count(s.inventory.topics)} topics, ${count(s.inventory.partitions)} partitions, ${count(s.inventory.groups)} groups`);
  lines.push(...fullStatusLine(s.name));
  return lines.join('\n');
}

/**
 * Keeps the workflow's current details equal to `render()`: sets them now and again whenever the text changes.
 * The condition is re-evaluated after every activation; it sends no command.
 */
export function keepCurrentDetails(render: () => string): void {
  // A rendering fault must never fail a workflow task: show it instead.
  const safe = () => {
    try {
      return render();
    } catch (e) {
      return `(current details unavailable: ${String(e)})`;
    }
  };
  // Outside the root scope: a cancellation from Temporal (handled as an abort) must not reject the wait.
  void CancellationScope.nonCancellable(async () => {
    for (;;) {
      const text = safe();
      setCurrentDetails(text);
      await condition(() => safe() !== text);
    }
  }).catch(() => undefined);
}
