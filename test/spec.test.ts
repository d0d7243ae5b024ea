import { loadSpecFile } from '../src/config/loadSpec';
import { parseSpec, SpecError } from '../src/config/spec';

const minimal = () => ({
  name: 'm1',
  source: {
    bootstrapServers: ['127.0.0.1:19093'],
    securityProtocol: 'SASL_PLAINTEXT',
    sasl: { mechanism: 'PLAIN', username: 'migrator', password: { env: 'KM_PW' } },
  },
  target: { bootstrapServers: ['127.0.0.1:29092'] },
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

describe('migration spec', () => {
  test('the example spec the demo runs is valid; a relative secret file stays relative (the worker resolves it in its secrets directory)', () => {
    const spec = loadSpecFile('examples/demo.yaml');
    expect(spec.name).toBe('demo');
    expect(spec.source.sasl?.password).toEqual({ file: 'migrator.password' });
    expect(spec.target.profile).toBe('automq');
    expect(spec.businessSystems.map((s) => s.name)).toEqual(['analytics', 'orders', 'payments']);
    expect(spec.cutover.strategy).toBe('producers-first');
  });

  test('a minimal spec gets documented defaults', () => {
    const spec = parseSpec(minimal());
    expect(spec.target.securityProtocol).toBe('PLAINTEXT');
    expect(spec.target.existingTopicPolicy).toBe('fail');
    expect(spec.thresholds.inactiveDays).toBe(7);
    expect(spec.copy.throttleBytesPerSecond).toBe(0);
    expect(spec.scope.topics).toEqual([]);
  });

  test('an inline password is refused without being echoed', () => {
    const raw = minimal();
    (raw.source.sasl as { password: unknown }).password = 'hunter2-very-secret';
    const issues = issuesOf(raw);
    expect(issues).toEqual([expect.stringMatching(/^source\.sasl\.password: expected a reference \{ env: VAR \} or \{ file: PATH \}, not an inline password/)]);
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  const cases: [string, (r: ReturnType<typeof minimal>) => void, RegExp][] = [
    ['missing name', (r) => delete (r as Partial<typeof r>).name, /^name: expected string, received undefined/],
    ['bad name', (r) => (r.name = 'My Migration'), /^name: expected 1-63 lower-case letters, digits or dashes.*, got "My Migration"/],
    ['bootstrap without port', (r) => (r.target.bootstrapServers = ['broker-1']), /^target\.bootstrapServers\[0\]: expected host:port.*, got "broker-1"/],
    ['empty bootstrap list', (r) => (r.target.bootstrapServers = []), /^target\.bootstrapServers: expected at least one bootstrap server/],
    [
      'unknown protocol',
      (r) => (r.source.securityProtocol = 'KERBEROS'),
      /^source\.securityProtocol: expected one of "PLAINTEXT"\|"SASL_PLAINTEXT"\|"SSL"\|"SASL_SSL", got "KERBEROS"/,
    ],
    [
      'SASL protocol without sasl',
      (r) => delete (r.source as Partial<typeof r.source>).sasl,
      /^source\.sasl: expected SASL settings \(mechanism, username, password\) for SASL_PLAINTEXT/,
    ],
    ['sasl with PLAINTEXT', (r) => (r.source.securityProtocol = 'PLAINTEXT'), /^source\.sasl: expected no SASL settings with securityProtocol PLAINTEXT/],
    [
      'unknown mechanism',
      (r) => (r.source.sasl.mechanism = 'GSSAPI'),
      /^source\.sasl\.mechanism: expected one of "PLAIN"\|"SCRAM-SHA-256"\|"SCRAM-SHA-512", got "GSSAPI"/,
    ],
    [
      'password ref of wrong shape',
      (r) => ((r.source.sasl as { password: unknown }).password = { vault: 'x' }),
      /^source\.sasl\.password: expected a reference \{ env: VAR \} or \{ file: PATH \}$/,
    ],
    ['unknown field', (r) => ((r as Record<string, unknown>).sourse = {}), /^\(root\): unknown field\(s\) "sourse"/],
    ['unknown profile', (r) => ((r.target as Record<string, unknown>).profile = 'msk'), /^target\.profile: expected one of "automq"\|"kafka", got "msk"/],
    ['bad regex in scope', (r) => ((r as Record<string, unknown>).scope = { topics: ['('] }), /^scope\.topics\[0\]: expected a valid regular expression/],
    [
      'duplicate business system',
      (r) => ((r as Record<string, unknown>).businessSystems = [{ name: 'a' }, { name: 'a' }]),
      /^businessSystems\[1\]\.name: expected a unique name, "a" is used twice/,
    ],
    ['negative threshold', (r) => ((r as Record<string, unknown>).thresholds = { inactiveDays: -1 }), /^thresholds\.inactiveDays: .*>0.*, got -1/],
    [
      'warn ratio out of range',
      (r) => ((r as Record<string, unknown>).thresholds = { capacityWarnRatio: 1.5 }),
      /^thresholds\.capacityWarnRatio: .*<1.*, got 1\.5/,
    ],
  ];
  test.each(cases)('%s gives a precise error', (_label, mutate, expected) => {
    const raw = minimal();
    mutate(raw);
    const issues = issuesOf(raw);
    expect(issues).toContainEqual(expect.stringMatching(expected));
  });

  test('every bad field is reported at once', () => {
    const raw = minimal();
    raw.name = 'BAD NAME';
    raw.target.bootstrapServers = ['nope'];
    expect(issuesOf(raw)).toHaveLength(2);
  });

  test('an unreadable spec file is named', () => {
    expect(() => loadSpecFile('does/not/exist.yaml')).toThrow(/cannot read spec file does\/not\/exist.yaml \(ENOENT\)/);
  });
});
