/**
 * Bad input, part 1: specs and command lines the tool must refuse before it touches anything. Each case
 * asserts the exact error (it names the field and what was expected, or how to fix it), both through
 * parseSpec / loadSpecFile and through `kafka-migrate start -f` (exit 2), and that nothing was started:
 * no workflow, no target topic, the source exactly as it was.
 */
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadSpecFile } from '../src/config/loadSpec';
import { parseSpec, SpecError } from '../src/config/spec';
import { emptyPlanError } from '../src/plan/emptyPlan';
import { temporalSettings } from '../src/worker/settings';
import { migrationWorkflowId } from '../src/workflows/ids';
import { deleteCreated, expectNoRunningWorkflow, seedSource, snapshotSource, targetTopicsPresent, type SourceSnapshot } from './helpers/noDamage';
import { cli } from './helpers/operator';
import { MIGRATOR_PASSWORD_FILE, SOURCE_SASL_BOOTSTRAP, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';

const SUFFIX = uniqueSuffix();
const TOPIC = `bad-spec-${SUFFIX}.orders`;
const GROUP = `bad-spec-${SUFFIX}-app`;
/** No worker polls this queue: a workflow started by mistake would show up as running, never progress. */
const QUEUE = `km-bad-spec-${SUFFIX}`;
const dir = mkdtempSync(join(tmpdir(), 'km-bad-spec-'));
const HINT = '(fix the spec and run again; examples/demo.yaml documents every field)';

let client: Client;
let connection: Connection;
let before: SourceSnapshot;

beforeAll(async () => {
  connection = await Connection.connect({ address: temporalSettings().address });
  client = new Client({ connection, namespace: temporalSettings().namespace });
  await seedSource(TOPIC, GROUP);
  before = await snapshotSource([TOPIC], [GROUP]);
});

afterAll(async () => {
  // Nothing any case did reached the clusters or Temporal.
  expect(await snapshotSource([TOPIC], [GROUP])).toEqual(before);
  expect(await targetTopicsPresent([TOPIC])).toEqual({});
  await deleteCreated({ sourceTopics: [TOPIC], groups: [GROUP] });
  rmSync(dir, { recursive: true, force: true });
  await connection?.close();
});

/** A valid spec for the local stack; each case breaks one thing in it. */
function validSpec(name: string): Record<string, any> {
  return {
    name,
    source: {
      bootstrapServers: [SOURCE_SASL_BOOTSTRAP],
      securityProtocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'PLAIN', username: 'migrator', password: { file: MIGRATOR_PASSWORD_FILE } },
    },
    target: { bootstrapServers: [TARGET_BOOTSTRAP], securityProtocol: 'PLAINTEXT' },
    scope: { topics: [`bad-spec-${SUFFIX}\\..*`] },
    businessSystems: [{ name: 'shop', priority: 'core', topics: { prefix: [`bad-spec-${SUFFIX}.`] } }],
  };
}

interface SpecCase {
  title: string;
  break: (spec: Record<string, any>) => unknown;
  /** Every issue line, exactly. */
  issues: string[];
}

const INLINE_PASSWORD = 'hunter2-never-echo';

const SPEC_CASES: SpecCase[] = [
  {
    title: 'an unknown policy for new topics',
    break: (s) => ((s.scope.newTopics = 'migrate'), s),
    issues: ['scope.newTopics: expected one of "propose"|"ignore", got "migrate"'],
  },
  {
    title: 'a new-topic check interval that is not positive',
    break: (s) => ((s.scope.newTopicsCheckSeconds = 0), s),
    issues: ['scope.newTopicsCheckSeconds: expected a positive number of seconds, got 0'],
  },
  {
    title: 'a name that cannot name a workflow',
    break: (s) => ((s.name = 'Orders Migration'), s),
    issues: ['name: expected 1-63 lower-case letters, digits or dashes (it names the workflows), got "Orders Migration"'],
  },
  {
    title: 'a bootstrap server without a port',
    break: (s) => ((s.source.bootstrapServers = ['broker-1']), s),
    issues: ['source.bootstrapServers[0]: expected host:port, e.g. "broker-1:9092", got "broker-1"'],
  },
  {
    title: 'no bootstrap server at all',
    break: (s) => ((s.target.bootstrapServers = []), s),
    issues: ['target.bootstrapServers: expected at least one bootstrap server, got []'],
  },
  {
    title: 'bootstrap servers as a string instead of a list',
    break: (s) => ((s.target.bootstrapServers = TARGET_BOOTSTRAP), s),
    issues: [`target.bootstrapServers: expected array, received string, got "${TARGET_BOOTSTRAP}"`],
  },
  {
    title: 'an unknown security protocol',
    break: (s) => ((s.source.securityProtocol = 'TLS'), s),
    issues: ['source.securityProtocol: expected one of "PLAINTEXT"|"SASL_PLAINTEXT"|"SSL"|"SASL_SSL", got "TLS"'],
  },
  {
    title: 'SASL_PLAINTEXT without SASL settings',
    break: (s) => (delete s.source.sasl, s),
    issues: ['source.sasl: expected SASL settings (mechanism, username, password) for SASL_PLAINTEXT'],
  },
  {
    title: 'SASL settings on a PLAINTEXT connection',
    break: (s) => ((s.target.sasl = { username: 'x', password: { env: 'X' } }), s),
    issues: ['target.sasl: expected no SASL settings with securityProtocol PLAINTEXT (use SASL_PLAINTEXT)'],
  },
  {
    title: 'an inline password (never echoed back)',
    break: (s) => ((s.source.sasl.password = INLINE_PASSWORD), s),
    issues: ['source.sasl.password: expected a reference { env: VAR } or { file: PATH }, not an inline password (secrets must never be part of the spec)'],
  },
  {
    title: 'a whole SASL block given as text (never echoed back)',
    break: (s) => ((s.source.sasl = `migrator:${INLINE_PASSWORD}`), s),
    issues: ['source.sasl: expected object, received string'],
  },
  {
    title: 'a password reference of an unknown kind',
    break: (s) => ((s.source.sasl.password = { vault: 'kv/kafka' }), s),
    issues: ['source.sasl.password: expected a reference { env: VAR } or { file: PATH }'],
  },
  {
    title: 'an unsupported SASL mechanism',
    break: (s) => ((s.source.sasl.mechanism = 'GSSAPI'), s),
    issues: ['source.sasl.mechanism: expected one of "PLAIN"|"SCRAM-SHA-256"|"SCRAM-SHA-512", got "GSSAPI"'],
  },
  {
    title: 'a misspelt field',
    break: (s) => ((s.scope.topic = s.scope.topics), delete s.scope.topics, s),
    issues: ['scope: unknown field(s) "topic"'],
  },
  {
    title: 'an unknown top-level field',
    break: (s) => ((s.dryRun = true), s),
    issues: ['(root): unknown field(s) "dryRun"'],
  },
  {
    title: 'a missing target',
    break: (s) => (delete s.target, s),
    issues: ['target: expected object, received undefined, got nothing'],
  },
  {
    title: 'a scope pattern that is not a regular expression',
    break: (s) => ((s.scope.topics = ['orders.(eu']), s),
    issues: ['scope.topics[0]: expected a valid regular expression (Invalid regular expression: /orders.(eu/: Unterminated group)'],
  },
  {
    title: 'a ratio out of range',
    break: (s) => ((s.thresholds = { capacityWarnRatio: 1.5 }), s),
    issues: ['thresholds.capacityWarnRatio: Too big: expected number to be <1, got 1.5'],
  },
  {
    title: 'a zero copy round',
    break: (s) => ((s.copy = { roundSeconds: 0 }), s),
    issues: ['copy.roundSeconds: Too small: expected number to be >0, got 0'],
  },
  {
    title: 'a fractional batch cap',
    break: (s) => ((s.batching = { maxTopics: 2.5 }), s),
    issues: ['batching.maxTopics: expected int, received number, got 2.5'],
  },
  {
    title: 'a number given as text',
    break: (s) => ((s.source.connectionTimeoutMs = '5s'), s),
    issues: ['source.connectionTimeoutMs: expected number, received string, got "5s"'],
  },
  {
    title: 'two business systems with one name',
    break: (s) => (s.businessSystems.push({ name: 'shop', topics: { prefix: ['shop2.'] } }), s),
    issues: ['businessSystems[1].name: expected a unique name, "shop" is used twice'],
  },
  {
    title: 'an unknown cutover strategy',
    break: (s) => ((s.cutover = { strategy: 'big-bang' }), s),
    issues: ['cutover.strategy: expected one of "producers-first"|"consumers-first", got "big-bang"'],
  },
  {
    title: 'an unknown existing-topic policy',
    break: (s) => ((s.target.existingTopicPolicy = 'overwrite'), s),
    issues: ['target.existingTopicPolicy: expected one of "fail"|"adopt-if-empty", got "overwrite"'],
  },
  {
    title: 'an unknown target profile',
    break: (s) => ((s.target.profile = 'confluent'), s),
    issues: ['target.profile: expected one of "automq"|"kafka", got "confluent"'],
  },
  {
    title: 'a spec that is a list, not a mapping',
    break: () => [validSpec('x')],
    issues: [expect.stringMatching(/^\(root\): expected object, received array, got \[/) as unknown as string],
  },
];

test.each(SPEC_CASES.map((c) => [c.title, c] as const))('spec: %s → parseSpec and `start -f` (exit 2) name the field', async (_title, c) => {
  const name = `bad-spec-${uniqueSuffix()}`;
  const raw = c.break(validSpec(name));

  let error: unknown;
  try {
    parseSpec(raw);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SpecError);
  expect((error as SpecError).issues).toEqual(c.issues);
  expect((error as SpecError).message).not.toContain(INLINE_PASSWORD);

  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(raw));
  const run = await cli(QUEUE, 'start', '-f', file);
  expect(run).toEqual({ code: 2, out: '', err: expect.any(String) });
  expect(run.err.split('\n')).toEqual([
    `invalid spec ${file}:`,
    ...c.issues.map((i) => (typeof i === 'string' ? `  - ${i}` : expect.stringMatching(/^ {2}- \(root\): expected object/))),
    HINT,
  ]);
  expect(run.err).not.toContain(INLINE_PASSWORD);
  await expectNothingStarted(name);
});

test('spec: every bad field is listed at once, not one per run', () => {
  const s = validSpec('Bad Name');
  s.source.bootstrapServers = ['nohost'];
  s.cutover = { strategy: 'later' };
  expect(() => parseSpec(s)).toThrow(
    new SpecError([
      'name: expected 1-63 lower-case letters, digits or dashes (it names the workflows), got "Bad Name"',
      'source.bootstrapServers[0]: expected host:port, e.g. "broker-1:9092", got "nohost"',
      'cutover.strategy: expected one of "producers-first"|"consumers-first", got "later"',
    ]),
  );
});

interface FileCase {
  title: string;
  /** Writes the spec (and whatever it refers to); returns its path. */
  write: (name: string) => string;
  /** The exact issue, given the spec path. */
  issue: (path: string) => string;
  /** How loadSpecFile names the source of the error (defaults to "spec <path>"). */
  source?: (path: string) => string;
}

function specWithProperties(name: string, properties: string | undefined): string {
  const s = validSpec(name);
  delete s.source.sasl;
  delete s.source.securityProtocol;
  s.source.propertiesFile = `${name}.properties`;
  if (properties !== undefined) writeFileSync(join(dir, `${name}.properties`), properties);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(s));
  return file;
}

const FILE_CASES: FileCase[] = [
  {
    title: 'a spec file that does not exist',
    write: (name) => join(dir, `${name}-missing.yaml`),
    issue: (p) => `cannot read spec file ${p} (ENOENT)`,
    source: (p) => p,
  },
  {
    title: 'a spec file that is not YAML',
    write: (name) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, `name: ${name}\nsource: { bootstrapServers: ["a:1"]\n`);
      return file;
    },
    issue: () => 'not valid YAML: Flow map in block collection must be sufficiently indented and end with a } at line 3, column 1:',
    source: (p) => p,
  },
  {
    title: 'a .json spec that is not JSON',
    write: (name) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, `{ "name": "${name}", }`);
      return file;
    },
    issue: () => expect.stringMatching(/^not valid JSON: (Expected double-quoted property name|Unexpected token)/) as unknown as string,
    source: (p) => p,
  },
  {
    title: 'a properties file whose sasl.jaas.config lacks the closing ";"',
    write: (name) =>
      specWithProperties(
        name,
        `bootstrap.servers=${SOURCE_SASL_BOOTSTRAP}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="migrator" password="x"\n`,
      ),
    issue: (p) => `source.propertiesFile: ${p.replace(/\.yaml$/, '.properties')}: sasl.jaas.config must end with ";"`,
  },
  {
    title: 'a properties file whose jaas line names a login module kafka-migrate cannot use',
    write: (name) =>
      specWithProperties(
        name,
        `bootstrap.servers=${SOURCE_SASL_BOOTSTRAP}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;\n`,
      ),
    issue: (p) =>
      `source.propertiesFile: ${p.replace(/\.yaml$/, '.properties')}: sasl.jaas.config uses com.sun.security.auth.module.Krb5LoginModule; only PlainLoginModule and ScramLoginModule (username/password) are supported`,
  },
  {
    title: 'a properties file that does not exist',
    write: (name) => specWithProperties(name, undefined),
    issue: (p) => `source.propertiesFile: cannot read properties file ${p.replace(/\.yaml$/, '.properties')} (ENOENT)`,
  },
];

test.each(FILE_CASES.map((c) => [c.title, c] as const))('file: %s → loadSpecFile and `start -f` (exit 2) say what to fix', async (_title, c) => {
  const name = `bad-file-${uniqueSuffix()}`;
  const file = c.write(name);
  const issue = c.issue(file);
  const source = c.source ? c.source(file) : `spec ${file}`;

  expect(() => loadSpecFile(file)).toThrow(SpecError);
  try {
    loadSpecFile(file);
  } catch (e) {
    expect((e as SpecError).issues).toEqual([issue]);
  }

  const run = await cli(QUEUE, 'start', '-f', file);
  expect(run.code).toBe(2);
  expect(run.out).toBe('');
  expect(run.err.split('\n')).toEqual([
    `invalid ${source}:`,
    typeof issue === 'string' ? `  - ${issue}` : expect.stringMatching(/^ {2}- not valid JSON: /),
    HINT,
  ]);
  await expectNothingStarted(name);
});

test('Temporal unreachable: `start` with a valid spec exits 5 and says how to fix it; nothing is started', async () => {
  const name = `bad-temporal-${uniqueSuffix()}`;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(validSpec(name)));
  const run = await cli(QUEUE, '--address', '127.0.0.1:1', 'start', '-f', file);
  expect(run.code).toBe(5);
  expect(run.out).toBe('');
  expect(run.err).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:1 \(.+\); start it with "npm run stack:up" or set TEMPORAL_ADDRESS \/ --address$/);
  await expectNothingStarted(name);
});

test('an unknown migration id: status and actions exit 4 and say where to look', async () => {
  const id = `nope-${uniqueSuffix()}`;
  const expected = `error: no migration "${id}" (tried migration-${id} and ${id}); "kafka-migrate list" shows the migrations`;
  expect(await cli(QUEUE, 'status', id)).toEqual({ code: 4, out: '', err: expected });
  expect(await cli(QUEUE, 'approve', id, '--step', 'plan', '--by', 'ops')).toEqual({ code: 4, out: '', err: expected });
  expect(await cli(QUEUE, 'abort', `migration-${id}`, '--by', 'ops', '--reason', 'typo')).toEqual({
    code: 4,
    out: '',
    err: `error: no migration "migration-${id}" (tried migration-${id}); "kafka-migrate list" shows the migrations`,
  });
});

test('resume: no earlier run to take the spec from, or a spec of another migration: exit 2, naming what to give; nothing is started', async () => {
  const name = `bad-resume-${uniqueSuffix()}`;
  expect(await cli(QUEUE, 'resume', name)).toEqual({
    code: 2,
    out: '',
    err: `error: resume: Temporal has no earlier run of migration-${name} to take the spec from; give it with -f <spec>`,
  });
  const other = join(dir, `${name}-other.yaml`);
  writeFileSync(other, stringify(validSpec(`${name}-other`)));
  const run = await cli(QUEUE, 'resume', name, '-f', other);
  expect(run.code).toBe(2);
  expect(run.err).toBe(`error: resume: the spec's name is "${name}-other", not "${name}"`);
  await expectNothingStarted(name);
  await expectNothingStarted(`${name}-other`);
});

/** No workflow of that name exists at all (not merely ended), and no target topic appeared. */
async function expectNothingStarted(name: string): Promise<void> {
  await expect(client.workflow.getHandle(migrationWorkflowId(name)).describe()).rejects.toThrow(/not found/i);
  await expectNoRunningWorkflow(client, name, 0);
}

test('plan: an empty plan is refused, saying whether nothing matched or everything matched was excluded', () => {
  const spec = {
    scope: {
      topics: ['orders\\..*'],
      excludeTopics: [],
      groups: [],
      excludeGroups: [],
      includeInactive: [],
      newTopics: 'propose' as const,
      newTopicsCheckSeconds: 300,
    },
  };
  const excluded = [
    { kind: 'topic' as const, name: 'billing.tx', reason: 'out of scope (spec.scope.topics / spec.scope.excludeTopics)' },
    { kind: 'topic' as const, name: 'orders.old', reason: 'inactive: holds no records; name it in spec.scope.includeInactive to migrate it' },
  ];
  expect(emptyPlanError(spec, { batches: [], excluded: excluded.slice(0, 1), warnings: [] })).toBe(
    'the plan has no batches: no source topic matches spec.scope.topics ["orders\\\\..*"]; check the topic names (patterns are full-match regular expressions) and that the migration user may describe them, then start again',
  );
  expect(emptyPlanError(spec, { batches: [], excluded, warnings: [] })).toBe(
    'the plan has no batches: the 1 topic(s) matching spec.scope.topics ["orders\\\\..*"] are all excluded, e.g. orders.old (inactive: holds no records; name it in spec.scope.includeInactive to migrate it); name them in spec.scope.includeInactive or fix the scope, then start again',
  );
  const batch = {
    number: 1,
    name: 'orders',
    systems: [],
    priority: 'core' as const,
    topics: [{ name: 'orders.eu', partitions: 1, bytes: 0, records: 0 }],
    groups: [],
  };
  expect(emptyPlanError(spec, { batches: [batch], excluded, warnings: [] })).toBeUndefined();
});
