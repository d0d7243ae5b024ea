/** The rollback window's pure parts: the spec field, and the exact target -> source offset translation. */
import { rollbackWindowMs } from '../src/config/rollbackWindow';
import { parseSpec, SpecError } from '../src/config/spec';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { withRollbackWindowAdvice } from '../src/activities/preflight/rollbackWindowAcls';
import { matchingAclsOf, planTopicFence, removeCommand } from '../src/cutover/windowFence';
import { invertMap, targetToSource } from '../src/rollback/translateBack';
import type { PartitionOffsetMap } from '../src/types/copy';

const minimal = (cutover: object) => ({
  name: 'm1',
  source: { bootstrapServers: ['127.0.0.1:19093'] },
  target: { bootstrapServers: ['127.0.0.1:29092'] },
  cutover,
});

function issuesOf(raw: unknown): string[] {
  try {
    parseSpec(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues;
  }
  throw new Error('expected the spec to be rejected');
}

const checkpoint = (sourceStart: number, sourceNext: number, targetNext: number) => ({
  sourceStart,
  sourceNext,
  targetNext,
  recordsCopied: 0,
  bytesCopied: 0,
  updatedAt: '',
});

describe('cutover.rollbackWindow', () => {
  test('durations, off and until-finalize; absent is off', () => {
    expect(rollbackWindowMs(undefined)).toBe(0);
    expect(rollbackWindowMs('off')).toBe(0);
    expect(rollbackWindowMs('90m')).toBe(90 * 60_000);
    expect(rollbackWindowMs('72h')).toBe(72 * 3600_000);
    expect(rollbackWindowMs('7d')).toBe(7 * 24 * 3600_000);
    expect(rollbackWindowMs('until-finalize')).toBe(Infinity);
    for (const bad of ['72', '72 hours', '0h', '1.5h', '-1d', '400d', 'forever']) expect(rollbackWindowMs(bad)).toBeUndefined();
    expect(parseSpec(minimal({ rollbackWindow: '72h' })).cutover.rollbackWindow).toBe('72h');
    expect(parseSpec(minimal({})).cutover.rollbackWindow).toBeUndefined();
  });

  test('a bad value names the field and what is expected; a window combines with fenceWithAcl; migratorPrincipal is a principal', () => {
    expect(issuesOf(minimal({ rollbackWindow: '72 hours' })).join('\n')).toMatch(/cutover\.rollbackWindow.*"off", "until-finalize" or a duration/);
    expect(parseSpec(minimal({ rollbackWindow: '1d', fenceWithAcl: true })).cutover).toMatchObject({ rollbackWindow: '1d', fenceWithAcl: true });
    expect(issuesOf(minimal({ rollbackWindow: '1d', migratorPrincipal: 'CN=migrator' })).join('\n')).toMatch(/cutover\.migratorPrincipal.*User:CN=/);
    expect(parseSpec(minimal({ migratorPrincipal: 'User:CN=migrator,O=x' })).cutover.migratorPrincipal).toBe('User:CN=migrator,O=x');
  });
});

describe("the window's source fence (planTopicFence)", () => {
  const acl = (principal: string, operation: string, permission = 'ALLOW', patternType = 'LITERAL', resourceName = 't') => ({
    principal,
    host: '*',
    operation,
    permission,
    patternType,
    resourceName,
  });

  test('every principal that may write (WRITE or ALL, any pattern) but the migrator is denied WRITE on the topic', () => {
    const plan = planTopicFence('t', 'User:migrator', [
      acl('User:app', 'WRITE', 'ALLOW', 'LITERAL', '*'),
      acl('User:etl', 'ALL', 'ALLOW', 'PREFIXED', 'x'),
      acl('User:reader', 'READ'),
      acl('User:migrator', 'WRITE'),
      acl('User:old', 'WRITE', 'DENY'),
    ]);
    expect(plan.unfenceable).toBeUndefined();
    expect(plan.writers).toEqual(['User:app', 'User:etl']);
    expect(plan.bindings).toEqual([
      { topic: 't', principal: 'User:app', host: '*', operation: 'WRITE', permission: 'DENY', patternType: 'LITERAL' },
      { topic: 't', principal: 'User:etl', host: '*', operation: 'WRITE', permission: 'DENY', patternType: 'LITERAL' },
    ]);
  });

  test('a topic User:* may write cannot be fenced per principal: reported, nothing created', () => {
    const plan = planTopicFence('t', 'User:migrator', [acl('User:*', 'WRITE', 'ALLOW', 'PREFIXED', 'or'), acl('User:app', 'WRITE')]);
    expect(plan.bindings).toEqual([]);
    expect(plan.unfenceable).toMatch(/User:\* may write it \(ALLOW WRITE on PREFIXED 'or'\)/);
  });

  test('a topic no ACL matched (open by allow.everyone.if.no.acl.found) gets ALLOWs for the migrator only', () => {
    const plan = planTopicFence('t', 'User:migrator', []);
    expect(plan.bindings.map((b) => `${b.permission} ${b.operation} ${b.principal}`)).toEqual([
      'ALLOW WRITE User:migrator',
      'ALLOW READ User:migrator',
      'ALLOW DESCRIBE User:migrator',
    ]);
    expect(plan.note).toMatch(/allow\.everyone\.if\.no\.acl\.found/);
  });

  test("DescribeAcls' answer (kafkajs' numeric enums) becomes named bindings", () => {
    const acls = matchingAclsOf({
      throttleTime: 0,
      errorCode: 0,
      resources: [
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: '*',
          resourcePatternType: ResourcePatternTypes.LITERAL,
          acls: [{ principal: 'User:app', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW }],
        },
      ],
    });
    expect(acls).toEqual([{ principal: 'User:app', host: '*', operation: 'WRITE', permission: 'ALLOW', patternType: 'LITERAL', resourceName: '*' }]);
    expect(planTopicFence('t', 'User:migrator', acls).writers).toEqual(['User:app']);
  });

  test('the remove commands name each binding exactly', () => {
    const [deny] = planTopicFence('t', 'User:m', [acl('User:app', 'WRITE')]).bindings;
    expect(removeCommand(deny, 'b:9092')).toBe(
      "kafka-acls --bootstrap-server b:9092 --remove --force --deny-principal User:app --deny-host '*' --operation Write --topic t --resource-pattern-type literal",
    );
  });
});

describe('target -> source offsets at a rollback', () => {
  // Forward: source 10..19 copied (a compacted gap at 14..15, a transaction marker at 19) to target 0..7.
  const forward: PartitionOffsetMap = {
    migration: 'm',
    topic: 't',
    partition: 0,
    runs: [
      { sourceStart: 10, targetStart: 0, count: 4 },
      { sourceStart: 16, targetStart: 4, count: 3 },
    ],
    checkpoint: checkpoint(10, 20, 7),
  };
  // Reverse: clients wrote target 7..11, plus a commit marker at 10 (read_committed skips it): copied to source 20..23.
  const reverse: PartitionOffsetMap = {
    migration: 'm.reverse',
    topic: 't',
    partition: 0,
    runs: [
      { sourceStart: 7, targetStart: 20, count: 3 },
      { sourceStart: 11, targetStart: 23, count: 1 },
    ],
    checkpoint: checkpoint(7, 12, 24),
  };

  test('below the forward end: the forward map read backwards', () => {
    expect(invertMap(forward).checkpoint).toMatchObject({ sourceNext: 7, targetNext: 20 });
    expect([0, 3, 4, 6].map((o) => targetToSource(forward, reverse, o))).toEqual([
      { offset: 10, via: 'forward-map' },
      { offset: 13, via: 'forward-map' },
      { offset: 16, via: 'forward-map' },
      { offset: 18, via: 'forward-map' },
    ]);
  });

  test('at or beyond it: the reverse map; a consumer at the end resumes at the source end', () => {
    expect([7, 9, 10, 11, 12].map((o) => targetToSource(forward, reverse, o).offset)).toEqual([20, 22, 23, 23, 24]);
    expect(targetToSource(forward, reverse, 7).via).toBe('reverse-map');
  });

  test('an offset beyond what was copied back is refused (drain first)', () => {
    expect(() => targetToSource(forward, reverse, 13)).toThrow(/beyond what the reverse sync copied back/);
  });
});

describe("preflight's ACL check with a rollback window", () => {
  const check = (authorizer: boolean) => ({ id: 'acls', title: 'ACLs', verdict: 'pass' as const, summary: 'ACLs read', evidence: { authorizer } });
  const spec = (rollbackWindow?: string) =>
    parseSpec({
      ...minimal(rollbackWindow ? { rollbackWindow } : {}),
      source: {
        bootstrapServers: ['127.0.0.1:19093'],
        securityProtocol: 'SASL_PLAINTEXT',
        sasl: { mechanism: 'PLAIN', username: 'migrator', password: { env: 'X' } },
      },
    });

  test('names what the migrator needs on the source (Write, All on the reverse store, Alter on the cluster for the fence)', () => {
    const r = withRollbackWindowAdvice(spec('72h'), check(true));
    expect(r.verdict).toBe('warn');
    expect(r.summary).toMatch(/fenced for every principal that may write them but the migrator/);
    expect(r.remediation).toContain('--allow-principal User:migrator --operation Alter --cluster');
    expect(r.remediation).toContain('__kafka_migrate_offsets');
    expect(withRollbackWindowAdvice(spec(), check(true)).verdict).toBe('pass');
  });

  test('a source without an authorizer fails, so that the operator confirms by override that nobody writes there', () => {
    const r = withRollbackWindowAdvice(spec('72h'), check(false));
    expect(r.verdict).toBe('fail');
    expect(r.remediation).toMatch(/override this check/);
  });
});
