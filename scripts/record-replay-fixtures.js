#!/usr/bin/env node
/**
 * Records a replay fixture (test/replay/<name>.json) from workflows already run on a Temporal server: the
 * histories of a migration workflow and of every child it started (batches, recursively), each run of a child
 * that continued as new included. test/replay.test.ts replays every fixture against the current workflow bundle.
 *
 *   node scripts/record-replay-fixtures.js --name NAME --description "one line" (--workflow-id ID [--run-id RUN] | --query VISIBILITY_QUERY)
 *        [--all-runs] [--address 127.0.0.1:7233] [--namespace default] [--out test/replay]
 *
 * --workflow-id: that workflow's latest run (or --run-id's); --all-runs: every run of that id, oldest first (a
 * migration that was resumed under the same id). --query: the newest closed workflow the visibility query matches,
 * e.g. "WorkflowType = 'migrationWorkflow' AND WorkflowId STARTS_WITH 'migration-editplan-' AND ExecutionStatus = 'Completed'".
 * Only closed runs are recorded (a running workflow's history would grow); TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE
 * are honoured. Plain JavaScript so it runs with `node` alone (no build step).
 */
'use strict';
const { mkdirSync, writeFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { Connection, Client } = require('@temporalio/client');
const proto = require('@temporalio/proto');
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root');
// historyToJSON of @temporalio/common is not used: with this install's two protobufjs copies (common's and
// proto's) it throws "type must be a Type". protojson is taken from the copy @temporalio/proto itself uses.
const { toJson } = require(require.resolve('protobufjs/ext/protojson', { paths: [require.resolve('@temporalio/proto')] }));
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

/** Proto JSON, the format of `temporal workflow show --output json`. */
function historyToJSON(history) {
  return toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

function parseArgs(argv) {
  const args = { allRuns: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '--name':
        args.name = next();
        break;
      case '--description':
        args.description = next();
        break;
      case '--workflow-id':
        args.workflowId = next();
        break;
      case '--run-id':
        args.runId = next();
        break;
      case '--query':
        args.query = next();
        break;
      case '--all-runs':
        args.allRuns = true;
        break;
      case '--address':
        args.address = next();
        break;
      case '--namespace':
        args.namespace = next();
        break;
      case '--out':
        args.out = next();
        break;
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!args.name || !/^[a-z0-9][a-z0-9-]*$/.test(args.name)) throw new Error('--name is required (lower-case letters, digits, dashes)');
  if (!args.description) throw new Error('--description is required (one line: what the fixture covers)');
  if (!args.workflowId === !args.query) throw new Error('give exactly one of --workflow-id and --query');
  return args;
}

async function listRuns(client, query) {
  const runs = [];
  for await (const w of client.workflow.list({ query })) runs.push(w);
  return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}

/** The root runs: [{ workflowId, runId }], oldest first. */
async function rootRuns(client, args) {
  if (args.query) {
    const closed = await listRuns(client, `(${args.query}) AND ExecutionStatus != 'Running'`);
    if (closed.length === 0) throw new Error(`no closed workflow matches ${args.query}`);
    const newest = closed[closed.length - 1];
    return [{ workflowId: newest.workflowId, runId: newest.runId }];
  }
  if (args.runId) return [{ workflowId: args.workflowId, runId: args.runId }];
  const runs = await listRuns(client, `WorkflowId = '${args.workflowId.replace(/'/g, "\\'")}'`);
  if (runs.length === 0) throw new Error(`no workflow ${args.workflowId}`);
  const picked = args.allRuns ? runs : [runs[runs.length - 1]];
  return picked.map((w) => ({ workflowId: w.workflowId, runId: w.runId }));
}

/** Records one run, then the children it started and the run it continued as (depth first, each run once). */
async function record(client, workflowId, runId, out, seen) {
  const key = `${workflowId}/${runId}`;
  if (seen.has(key)) return;
  seen.add(key);
  const handle = client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe();
  if (description.status.name === 'RUNNING') throw new Error(`${workflowId} (run ${runId}) is still running: record closed workflows only`);
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  out.push({
    workflowId,
    runId,
    workflowType: description.type,
    status: description.status.name,
    events: events.length,
    history: historyToJSON(history),
  });
  for (const e of events) {
    const started = e.childWorkflowExecutionStartedEventAttributes;
    if (started?.workflowExecution?.workflowId && started.workflowExecution.runId) {
      await record(client, started.workflowExecution.workflowId, started.workflowExecution.runId, out, seen);
    }
    const continued = e.workflowExecutionContinuedAsNewEventAttributes;
    if (continued?.newExecutionRunId) await record(client, workflowId, continued.newExecutionRunId, out, seen);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const address = args.address ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const namespace = args.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default';
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace });
    const roots = await rootRuns(client, args);
    const workflows = [];
    const seen = new Set();
    for (const r of roots) await record(client, r.workflowId, r.runId, workflows, seen);
    const fixture = {
      name: args.name,
      workflowId: roots[0].workflowId,
      description: args.description,
      recordedAt: new Date().toISOString(),
      workflows,
    };
    const dir = resolve(args.out ?? resolve(__dirname, '../test/replay'));
    mkdirSync(dir, { recursive: true });
    const file = resolve(dir, `${args.name}.json`);
    const text = JSON.stringify(fixture) + '\n';
    writeFileSync(file, text);
    const summary = workflows.map((w) => `${w.workflowId} ${w.status} ${w.events} events`).join('\n  ');
    console.log(`wrote ${file} (${(text.length / 1024).toFixed(1)} KiB)\n  ${summary}`);
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(`error: ${err.stack}`);
  process.exit(1);
});
