/** Pure parts of the preflight: scope matching, the summary (worst verdict wins), the Markdown report. */
import { groupInScope, isClusterInternalTopic, topicInScope } from '../src/plan/scope';
import { summarizePreflight } from '../src/activities/preflight/summary';
import { ratioVerdict } from '../src/activities/preflight/checkCapacity';
import { clientLibraryHint } from '../src/activities/preflight/checkClients';
import { renderPreflightMarkdown } from '../src/reports/preflightReport';
import type { CheckResult } from '../src/types/preflight';
import { stackSpec } from './helpers/stack';

const check = (id: string, verdict: CheckResult['verdict']): CheckResult => ({
  id,
  title: `Check ${id}`,
  verdict,
  summary: `${id} is ${verdict}`,
  evidence: { id },
});

describe('scope', () => {
  test('empty scope: every topic but the cluster-owned __ ones; every group', () => {
    const spec = stackSpec({ name: 'scope-a' });
    expect(topicInScope(spec, 'orders')).toBe(true);
    expect(topicInScope(spec, '_schemas')).toBe(true);
    expect(topicInScope(spec, '__consumer_offsets')).toBe(false);
    expect(topicInScope(spec, '__kafka_migrate_offsets')).toBe(false);
    expect(groupInScope(spec, 'anything')).toBe(true);
    expect(isClusterInternalTopic('__transaction_state')).toBe(true);
  });

  test('patterns are full matches; excludes win; __ topics never match', () => {
    const spec = stackSpec({
      name: 'scope-b',
      scope: { topics: ['orders\\..*', '__.*'], excludeTopics: ['orders\\.tmp.*'], groups: ['billing-.*'], excludeGroups: ['billing-test'] },
    });
    expect(topicInScope(spec, 'orders.eu')).toBe(true);
    expect(topicInScope(spec, 'legacy.orders.eu')).toBe(false);
    expect(topicInScope(spec, 'orders.tmp1')).toBe(false);
    expect(topicInScope(spec, '__consumer_offsets')).toBe(false);
    expect(groupInScope(spec, 'billing-app')).toBe(true);
    expect(groupInScope(spec, 'billing-test')).toBe(false);
    expect(groupInScope(spec, 'x-billing-app')).toBe(false);
  });
});

describe('summarizePreflight', () => {
  test('the worst verdict wins', () => {
    expect(summarizePreflight('m', [check('a', 'pass'), check('b', 'pass')]).verdict).toBe('pass');
    expect(summarizePreflight('m', [check('a', 'pass'), check('b', 'warn')]).verdict).toBe('warn');
    expect(summarizePreflight('m', [check('a', 'warn'), check('b', 'fail'), check('c', 'pass')]).verdict).toBe('fail');
    const r = summarizePreflight('m', [check('a', 'pass')]);
    expect(r).toMatchObject({ migration: 'm', checks: [check('a', 'pass')] });
    expect(Number.isNaN(Date.parse(r.checkedAt))).toBe(false);
  });
});

test('capacity ratio verdicts: pass up to the warn ratio, warn up to 100 %, fail above', () => {
  expect(ratioVerdict(0.7, 0.7)).toBe('pass');
  expect(ratioVerdict(0.71, 0.7)).toBe('warn');
  expect(ratioVerdict(1, 0.7)).toBe('warn');
  expect(ratioVerdict(1.01, 0.7)).toBe('fail');
});

test('client library hints from default client ids', () => {
  expect(clientLibraryHint('consumer-orders-1')).toMatch(/Java/);
  expect(clientLibraryHint('rdkafka')).toMatch(/librdkafka/);
  expect(clientLibraryHint('billing-service')).toBeUndefined();
});

test('the Markdown report lists every check with its verdict, remediation and evidence', () => {
  const report = summarizePreflight('demo', [check('versions', 'pass'), { ...check('target-state', 'fail'), remediation: 'delete the topic | now' }]);
  const md = renderPreflightMarkdown(report);
  expect(md).toContain('# Preflight of migration demo: FAIL');
  expect(md).toContain('2 checks, 1 failed, 0 with warnings');
  expect(md).toContain('| Check target-state | FAIL | target-state is fail |');
  expect(md).toContain('**What to do:** delete the topic | now');
  expect(md).toContain('"id": "versions"');
  expect(md).toContain('send `overridePreflight` with a reason');
});
