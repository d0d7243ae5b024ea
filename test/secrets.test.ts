/**
 * The SASL password of the source never leaves the worker's memory: a real migration is started through the
 * CLI with a password reference (an environment variable, then a Kafka client properties file), runs until
 * it waits for an operator, is reported on and aborted; then the password is searched for in the workflow
 * history (exported with the Temporal CLI), the worker's logs, every query result and every report file.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogEntry, type Worker } from '@temporalio/worker';
import { createWorker } from '../src/worker/createWorker';
import { temporalSettings } from '../src/worker/settings';
import { migrationWorkflowId } from '../src/workflows/ids';
import { statusQuery } from '../src/workflows/messages';
import { BUNDLE_PATH } from './helpers/globalSetup';
import { cli, createSourceTopic, exportHistoryWithTemporalCli, waitForOperatorWait } from './helpers/operator';
import { MIGRATOR_PASSWORD_FILE, SOURCE_SASL_BOOTSTRAP, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';

const PASSWORD = readFileSync(MIGRATOR_PASSWORD_FILE, 'utf8').replace(/\r?\n$/, '');
const logLines: string[] = [];
const settings = temporalSettings({ taskQueue: `km-secrets-${uniqueSuffix()}` });
let worker: Worker;
let running: Promise<void>;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
const restore: (() => void)[] = [];

/** Everything the worker process says: the Temporal runtime logger (workflow and activity logs) and the console. */
function captureProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      logLines.push(String(chunk));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => void (stream.write = original));
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      logLines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    };
    restore.push(() => void (console[level] = original));
  }
}

beforeAll(async () => {
  captureProcessOutput();
  Runtime.install({
    logger: new DefaultLogger('DEBUG', (entry: LogEntry) => void logLines.push(`${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}`)),
    shutdownSignals: [],
  });
  nativeConnection = await NativeConnection.connect({ address: settings.address });
  ({ worker } = await createWorker({ settings, connection: nativeConnection, workflowBundle: { codePath: BUNDLE_PATH } }));
  running = worker.run();
  connection = await Connection.connect({ address: settings.address });
  client = new Client({ connection, namespace: settings.namespace });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await nativeConnection?.close();
  await connection?.close();
  restore.forEach((r) => r());
});

/** Every form in which the password could leak: as is, base64 (payloads), JSON-escaped. */
function leakForms(): string[] {
  return [PASSWORD, Buffer.from(PASSWORD).toString('base64'), JSON.stringify(PASSWORD).slice(1, -1)];
}

function expectNoLeak(where: string, text: string): void {
  for (const form of leakForms()) {
    if (text.includes(form)) throw new Error(`the SASL password leaked into ${where}`);
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Runs one migration to its first operator wait, reports on it, aborts it and searches for the password. */
async function migrateAndSearch(name: string, writeSpec: (dir: string, spec: Record<string, unknown>) => string, reference: RegExp): Promise<void> {
  const topic = `${name}.events`;
  await createSourceTopic(topic, 3);
  const dir = mkdtempSync(join(tmpdir(), 'km-secrets-'));
  const reportsDir = join(dir, 'reports');
  const specFile = writeSpec(dir, {
    name,
    target: { bootstrapServers: [TARGET_BOOTSTRAP], securityProtocol: 'PLAINTEXT' },
    scope: { topics: [`${name.replace(/-/g, '\\-')}\\..*`] },
    thresholds: { capacitySampleSeconds: 1 },
    reports: { dir: reportsDir },
  });
  const workflowId = migrationWorkflowId(name);
  const logStart = logLines.length;

  const started = await cli(settings.taskQueue, 'start', '-f', specFile);
  expect(started).toMatchObject({ code: 0, err: '' });
  expect(started.out).toContain(`started ${workflowId}`);

  // The topic in scope is this test's own and not on the target: the preflight has nothing to fail on.
  const status = await waitForOperatorWait(client, workflowId);
  expect(status.preflight?.checks.filter((c) => c.verdict === 'fail')).toEqual([]);
  expect(status).toMatchObject({ phase: 'plan', waitingFor: { signal: 'approvePlan|rejectPlan' } });
  // The workflow really used the password: connectivity authenticated as migrator over SASL.
  expect(status.connectivity?.source).toMatchObject({ securityProtocol: 'SASL_PLAINTEXT', user: 'migrator' });

  const queried = [
    JSON.stringify(await client.workflow.getHandle(workflowId).query(statusQuery)),
    (await cli(settings.taskQueue, 'status', name, '--json')).out,
    (await cli(settings.taskQueue, 'status', name)).out,
  ];
  for (const format of ['md', 'json', 'html']) {
    expect((await cli(settings.taskQueue, 'report', name, '--format', format, '--out', join(reportsDir, `cli-report.${format}`))).code).toBe(0);
  }
  const aborted = await cli(settings.taskQueue, 'abort', name, '--by', 'secrets-test', '--reason', 'end of the secrets test');
  expect(aborted).toMatchObject({ code: 0, err: '' });
  const result = await client.workflow.getHandle(workflowId).result();
  expect(result.outcome).toBe('aborted');
  queried.push(JSON.stringify(result));

  const history = exportHistoryWithTemporalCli(workflowId);
  // The history is the real one, and it carries the reference instead of the password.
  expect(history).toContain(workflowId);
  expect(history).toMatch(reference);
  expectNoLeak('the workflow history', history);

  const logs = logLines.slice(logStart).join('\n');
  expect(logs).toContain('migration phase'); // the workflow's own log lines were captured
  expectNoLeak("the worker's logs", logs);

  queried.forEach((q, i) => expectNoLeak(`query result #${i}`, q));

  const reports = filesUnder(reportsDir);
  expect(reports.map((f) => f.slice(reportsDir.length + 1)).sort()).toEqual(
    expect.arrayContaining([
      `${name}/preflight.md`,
      `${name}/preflight.json`,
      `${name}/inventory.json`,
      `${name}/plan.md`,
      `${name}/migration.md`,
      'cli-report.md',
      'cli-report.json',
      'cli-report.html',
    ]),
  );
  for (const f of reports) expectNoLeak(`report ${f}`, readFileSync(f, 'utf8'));
}

test('a password given by environment variable appears nowhere', async () => {
  const variable = `KM_TEST_SOURCE_PW_${uniqueSuffix().toUpperCase()}`;
  process.env[variable] = PASSWORD; // the worker runs in this process: it resolves the reference here
  try {
    await migrateAndSearch(
      `sec-env-${uniqueSuffix()}`,
      (dir, spec) => {
        const file = join(dir, 'spec.json');
        const source = {
          bootstrapServers: [SOURCE_SASL_BOOTSTRAP],
          securityProtocol: 'SASL_PLAINTEXT',
          sasl: { mechanism: 'PLAIN', username: 'migrator', password: { env: variable } },
        };
        writeFileSync(file, JSON.stringify({ ...spec, source }));
        return file;
      },
      new RegExp(variable),
    );
  } finally {
    delete process.env[variable];
  }
});

test('a password inside a Kafka client properties file appears nowhere', async () => {
  let propertiesFile = '';
  await migrateAndSearch(
    `sec-props-${uniqueSuffix()}`,
    (dir, spec) => {
      propertiesFile = join(dir, 'source-client.properties');
      const escaped = PASSWORD.replace(/\\/g, '\\\\\\\\').replace(/"/g, '\\\\\\"');
      writeFileSync(
        propertiesFile,
        [
          '# as for kafka-consumer-groups.sh --command-config',
          `bootstrap.servers=${SOURCE_SASL_BOOTSTRAP}`,
          'security.protocol=SASL_PLAINTEXT',
          'sasl.mechanism=PLAIN',
          `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="migrator" password="${escaped}";`,
          '',
        ].join('\n'),
      );
      const file = join(dir, 'spec.yaml');
      // YAML is a superset of JSON; the source comes only from the properties file (relative to the spec).
      writeFileSync(file, JSON.stringify({ ...spec, source: { propertiesFile: 'source-client.properties' } }, null, 2));
      return file;
    },
    /"propertiesFile":\s*"[^"]*source-client\.properties"/,
  );
  expect(readFileSync(propertiesFile, 'utf8')).toContain('password='); // the only place the password is
});
