/**
 * Replay fixtures: real histories of migrations run on the Temporal dev server, recorded by
 * scripts/record-replay-fixtures.js into test/replay/<name>.json and replayed by test/replay.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

export const FIXTURE_DIR = __dirname;

/** One recorded workflow run; `history` is proto JSON (`temporal workflow show --output json`). */
export interface RecordedRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: string;
  events: number;
  history: unknown;
}

export interface ReplayFixture {
  /** The file's name without `.json`. */
  name: string;
  /** The migration (root) workflow id. */
  workflowId: string;
  /** One line: what the fixture covers. */
  description: string;
  recordedAt: string;
  /** The migration's run(s), then every child (batch) run it started, each continued-as-new run included. */
  workflows: RecordedRun[];
}

// historyFromJSON of @temporalio/common (which Worker.runReplayHistories also calls for JSON histories) throws
// "type must be a Type" with this install's two protobufjs copies: common's protojson checks `instanceof` against its
// own copy while the History type comes from @temporalio/proto's. The protojson of proto's own copy is used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [require.resolve('@temporalio/proto')] })) as {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): proto.temporal.api.history.v1.IHistory | null;
};
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

/** A proto-JSON history as a History message (what Worker.runReplayHistories takes). */
export function historyFromProtoJSON(json: unknown): proto.temporal.api.history.v1.IHistory {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history?.events?.length) throw new TypeError('not a history: no events');
  return history;
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadFixture(name: string): ReplayFixture {
  const fixture = JSON.parse(readFileSync(resolve(FIXTURE_DIR, `${name}.json`), 'utf8')) as ReplayFixture;
  for (const key of ['workflowId', 'description'] as const) {
    if (typeof fixture[key] !== 'string' || fixture[key] === '') throw new Error(`fixture ${name} has no ${key}`);
  }
  if (!Array.isArray(fixture.workflows) || fixture.workflows.length === 0) throw new Error(`fixture ${name} has no workflows`);
  return fixture;
}

/** The fixture's runs in the form Worker.runReplayHistories takes. */
export function replayHistories(fixture: ReplayFixture): HistoryAndWorkflowId[] {
  return fixture.workflows.map((w) => ({ workflowId: w.workflowId, history: historyFromProtoJSON(w.history) }));
}
