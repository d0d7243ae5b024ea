/**
 * Scripted activities for the workflow signal-path tests: the workflows run for real on the real Temporal
 * server, only the Kafka side is replaced so that each path (approve, reject, override, abort, wrong phase, a
 * source that keeps moving...) can be driven exactly. The real activities are proven in their own suites and
 * in the end-to-end migration test.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type * as real from '../../src/activities';
import type { MigrationSpec } from '../../src/config/spec';
import { migrationWorkflowId } from '../../src/workflows/ids';
import { migrationWorkflow } from '../../src/workflows/migration';
import { stackSpec, uniqueSuffix } from './stack';
import type { TestTemporal } from './temporal';
import type { CheckResult, InventorySummary, PartitionProgress, QuietCheckResult, TopicCreationReport, VerificationSummary } from '../../src/types';

export interface Scenario {
  preflightVerdicts: Record<string, 'pass' | 'warn' | 'fail'>;
  /** Lag each copy round reports, consumed one per round (the last value repeats). */
  lagPerRound: number[];
  /** Results of successive quiet checks (the last value repeats). */
  quiet: boolean[];
  groupStates: string[];
  verifyOk: boolean[];
  calls: string[];
}

export const scenario: Scenario = newScenario();

export function newScenario(): Scenario {
  return { preflightVerdicts: {}, lagPerRound: [0], quiet: [true], groupStates: ['Empty'], verifyOk: [true], calls: [] };
}

export function resetScenario(s: Partial<Scenario> = {}): void {
  Object.assign(scenario, newScenario(), s);
}

const take = <T>(list: T[]): T => (list.length > 1 ? list.shift()! : list[0]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const TOPICS = [
  { name: 'shop.orders', partitions: 2, system: 'shop' },
  { name: 'shop.payments', partitions: 1, system: 'shop' },
  { name: 'ads.clicks', partitions: 3, system: 'ads' },
];

export function fakeInventory(migration: string): InventorySummary {
  const topics = TOPICS.map((t) => ({
    name: t.name,
    internal: false,
    partitions: t.partitions,
    replicationFactor: 1,
    records: 1000,
    bytes: 100000,
    lastRecordAt: new Date().toISOString(),
    system: t.system,
    flags: [],
    flagReasons: {},
  }));
  const groups = [
    {
      groupId: 'shop-service',
      state: 'Empty',
      protocolType: 'consumer',
      members: 0,
      topics: ['shop.orders', 'shop.payments'],
      missingTopics: [],
      totalLag: 10,
      systems: ['shop'],
      flags: [],
      flagReasons: {},
    },
    {
      groupId: 'ads-aggregator',
      state: 'Empty',
      protocolType: 'consumer',
      members: 0,
      topics: ['ads.clicks'],
      missingTopics: [],
      totalLag: 0,
      systems: ['ads'],
      flags: [],
      flagReasons: {},
    },
  ];
  return {
    migration,
    collectedAt: new Date().toISOString(),
    durationMs: 1,
    clusterId: 'fake',
    totals: { topics: 3, partitions: 6, records: 3000, bytes: 300000, groups: 2, inactiveTopics: 0, unclaimedGroups: 0 },
    topics,
    groups,
    systems: [
      { name: 'ads', priority: 'non-core', topics: ['ads.clicks'], groups: ['ads-aggregator'], partitions: 3, records: 1000, bytes: 100000 },
      { name: 'shop', priority: 'core', topics: ['shop.orders', 'shop.payments'], groups: ['shop-service'], partitions: 3, records: 2000, bytes: 200000 },
    ],
    unassigned: { topics: [], groups: [] },
    warnings: [],
    reportFiles: { jsonPath: '/dev/null', markdownPath: '/dev/null' },
  } as InventorySummary;
}

function check(id: string): CheckResult {
  const verdict = scenario.preflightVerdicts[id] ?? 'pass';
  return { id, title: id, verdict, summary: `${id}: ${verdict}`, evidence: {} };
}

/** The worker's real activities: fakes (here and in the tests that replace one) must satisfy Partial<RealActivities>. */
export type RealActivities = typeof real;
type Acts = RealActivities;
/**
 * Type-checked against the real activities (src/activities/index.ts): each fake takes the real input and returns
 * the real result type, so a changed activity signature breaks this file, not a test at run time.
 */
export const fakeActivities = {
  checkConnectivity: async () => {
    scenario.calls.push('checkConnectivity');
    const side = (role: 'source' | 'target') => ({
      role,
      bootstrapServers: ['fake:9092'],
      securityProtocol: 'PLAINTEXT',
      clusterId: role,
      controllerId: 1,
      brokers: [],
      visibleTopics: 3,
      latencyMs: 1,
    });
    return { checkedAt: new Date().toISOString(), source: side('source'), target: side('target') };
  },
  checkVersions: async () => check('versions'),
  checkSecurity: async () => check('security'),
  checkPermissions: async () => check('permissions'),
  checkAcls: async () => check('acls'),
  checkEcosystem: async () => check('ecosystem'),
  checkReachability: async () => check('reachability'),
  checkCapacity: async () => check('capacity'),
  checkTargetState: async () => check('target-state'),
  checkClients: async () => check('clients'),
  collectInventory: async (input) => {
    scenario.calls.push('collectInventory');
    return fakeInventory(input.spec.name);
  },
  writeReportFiles: async (input) => {
    scenario.calls.push(`writeReportFiles:${input.fileStem}`);
    return { jsonPath: `/fake/${input.fileStem}.json`, markdownPath: `/fake/${input.fileStem}.md` };
  },
  createTargetTopics: async (input): Promise<TopicCreationReport> => {
    scenario.calls.push(`createTargetTopics:${input.topics.join(',')}`);
    return {
      migration: 'fake',
      checkedAt: new Date().toISOString(),
      topics: input.topics.map((t) => ({
        topic: t,
        action: 'created' as const,
        partitions: TOPICS.find((x) => x.name === t)!.partitions,
        partitionsAdded: 0,
        replicationFactor: null,
        configs: {},
        droppedConfigs: [],
        timestampType: 'CreateTime' as const,
        warnings: [],
      })),
    };
  },
  copyRound: async (input): Promise<PartitionProgress[]> => {
    scenario.calls.push(`copyRound:${input.mode}`);
    const lag = input.mode === 'drain' ? 0 : take(scenario.lagPerRound);
    await sleep(150);
    return input.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      sourceStart: 0,
      sourceEnd: 100 + lag,
      sourceNext: 100,
      targetNext: 100,
      lagRecords: lag,
      lagSeconds: lag > 0 ? 1 : 0,
      bytesCopied: 1000,
      recordsCopied: 100,
      identicalOffsets: true,
    }));
  },
  waitForQuietSource: async (): Promise<QuietCheckResult> => {
    const quiet = take(scenario.quiet);
    scenario.calls.push(`waitForQuietSource:${quiet}`);
    return { quiet, endOffsets: {}, changed: quiet ? [] : ['shop.orders:0'], observedSeconds: 1 };
  },
  sampleEndOffsets: async () => ({}),
  describeGroups: async (input) => {
    const state = take(scenario.groupStates);
    scenario.calls.push(`describeGroups:${input.cluster}:${state}`);
    return input.groups.map((g) => ({
      group: g,
      cluster: input.cluster,
      state,
      protocolType: 'consumer',
      protocol: 'range',
      members: state === 'Empty' ? [] : [{ memberId: 'm', clientId: 'c', host: 'h' }],
    }));
  },
  fenceSourceWrites: async (input) => {
    scenario.calls.push('fenceSourceWrites');
    return {
      migration: input.migration,
      action: 'fence',
      applied: true,
      topics: input.topics,
      changed: [],
      owned: [],
      foreign: [],
      at: new Date().toISOString(),
    };
  },
  unfenceSourceWrites: async (input) => {
    scenario.calls.push('unfenceSourceWrites');
    return {
      migration: input.migration,
      action: 'unfence',
      applied: true,
      topics: input.topics,
      changed: [],
      owned: [],
      foreign: [],
      at: new Date().toISOString(),
    };
  },
  translateOffsetsAndReport: async (input) => {
    scenario.calls.push(`translateOffsetsAndReport:${input.groups.join(',')}`);
    return {
      groups: input.groups.length,
      partitionsCommitted: 0,
      groupsAlreadyCommitted: 0,
      partitionsWithoutOffset: 0,
      notes: [],
      report: { jsonPath: '/dev/null', markdownPath: '/dev/null' },
    };
  },
  verifyBatchAndReport: async (): Promise<VerificationSummary> => {
    const ok = take(scenario.verifyOk);
    scenario.calls.push(`verifyBatchAndReport:${ok}`);
    const mismatches = ok ? [] : ['shop.orders:0: digest differs'];
    return {
      ok,
      durationMs: 1,
      partitions: 1,
      groups: 0,
      mismatchCount: mismatches.length,
      mismatches,
      report: { jsonPath: '/dev/null', markdownPath: '/dev/null' },
    };
  },
  findNewTopics: async () => ({ topics: [], groups: [], checkedAt: new Date().toISOString() }),
  recordBatchLedger: async (input) => {
    scenario.calls.push(`recordBatchLedger:${input.entry.number}:${input.entry.state}`);
  },
  readBatchLedger: async () => [],
  deleteTargetTopics: async (input) => {
    scenario.calls.push(`deleteTargetTopics:${input.topics.join(',')}`);
    return { deleted: input.topics, missing: [], forgottenKeys: 0 };
  },
} satisfies Partial<Acts>;

/** A spec for the scripted world: its topics (ads.*, shop.*) in two business systems, one-second rounds. */
export function fakeWorldSpec(label: string, overrides: Record<string, unknown> = {}): MigrationSpec {
  return stackSpec({
    name: `${label}-${uniqueSuffix()}`,
    businessSystems: [
      { name: 'ads', priority: 'non-core', topics: { prefix: ['ads.'] } },
      { name: 'shop', priority: 'core', topics: { prefix: ['shop.'] } },
    ],
    copy: { roundSeconds: 1, heartbeatTimeoutSeconds: 10 },
    ...overrides,
  } as never);
}

/** Starts the migration workflow of `spec` on the test worker's task queue. */
export function startMigrationOn(t: TestTemporal, spec: MigrationSpec): Promise<WorkflowHandle<typeof migrationWorkflow>> {
  return t.client.workflow.start(migrationWorkflow, { taskQueue: t.settings.taskQueue, workflowId: migrationWorkflowId(spec.name), args: [{ spec }] });
}
