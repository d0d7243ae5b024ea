/** Kafka client .properties files as a spec connection source: parsing, merging, and the password reference. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionFromProperties, parseJaasConfig, parseJavaProperties, passwordFromPropertiesFile, PropertiesFileError } from '../src/config/kafkaProperties';
import { loadSpecFile } from '../src/config/loadSpec';
import { resolveSecret, SecretResolutionError } from '../src/config/secrets';
import { SpecError } from '../src/config/spec';

const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule';

describe('java.util.Properties format', () => {
  test('separators, comments, blanks, continuations and escapes', () => {
    const props = parseJavaProperties(
      [
        '# a comment',
        '! another comment',
        '',
        '   bootstrap.servers = b1:9092,\\',
        '        b2:9092',
        'security.protocol:SASL_PLAINTEXT',
        'client.id kafka-tools',
        'key\\ with\\ spaces=v',
        'unicode=caf\\u00e9',
        'tabbed=a\\tb',
        'colon\\:key=1',
        'trailing.backslash=ends\\\\',
        'empty.value=',
      ].join('\r\n'),
    );
    expect(props.get('bootstrap.servers')).toBe('b1:9092,b2:9092');
    expect(props.get('security.protocol')).toBe('SASL_PLAINTEXT');
    expect(props.get('client.id')).toBe('kafka-tools');
    expect(props.get('key with spaces')).toBe('v');
    expect(props.get('unicode')).toBe('café');
    expect(props.get('tabbed')).toBe('a\tb');
    expect(props.get('colon:key')).toBe('1');
    expect(props.get('trailing.backslash')).toBe('ends\\');
    expect(props.get('empty.value')).toBe('');
    expect([...props.keys()]).not.toContain('# a comment');
  });
});

describe('sasl.jaas.config', () => {
  test('PLAIN with quoted values holding escaped quotes, backslashes, spaces and semicolons', () => {
    const c = parseJaasConfig(`${PLAIN} required username="mig rator" password="p\\"w;d\\\\x=1";`, 'client.properties');
    expect(c).toEqual({ loginModule: PLAIN, kind: 'PLAIN', username: 'mig rator', password: 'p"w;d\\x=1' });
  });

  test('SCRAM, unquoted values, extra options and line breaks', () => {
    const c = parseJaasConfig(`${SCRAM} required\n  username=alice\n  password=s3cr3t\n  tokenauth=false;`, 'f');
    expect(c).toMatchObject({ kind: 'SCRAM', username: 'alice', password: 's3cr3t' });
  });

  test.each([
    ['', /sasl\.jaas\.config is empty/],
    ['com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;', /Krb5LoginModule; only PlainLoginModule and ScramLoginModule/],
    [`${PLAIN} username="a" password="b";`, /expected a control flag \("required"\)/],
    [`${PLAIN} required username="a" password="b"`, /must end with ";"/],
    [`${PLAIN} required username="a" password="b`, /unterminated quoted value/],
    [`${PLAIN} required username "a";`, /expected key=value options/],
    [`${PLAIN} required username="a"; ${PLAIN} required username="b";`, /more than one login module/],
  ])('refuses %j', (text, message) => {
    expect(() => parseJaasConfig(text, 'client.properties')).toThrow(message);
  });

  test('an error never echoes the password', () => {
    let msg = '';
    try {
      parseJaasConfig(`${PLAIN} required username="a" password="topsecret-123"`, 'f');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/must end with/);
    expect(msg).not.toContain('topsecret');
  });
});

describe('connection from properties', () => {
  const props = (o: Record<string, string>) => new Map(Object.entries(o));

  test('maps the client settings and keeps the password as a reference', () => {
    const conn = connectionFromProperties(
      props({
        'bootstrap.servers': ' b1:9092 , b2:9092 ',
        'security.protocol': 'sasl_plaintext',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.jaas.config': `${SCRAM} required username="u" password="pw";`,
        'client.id': 'ops',
        'request.timeout.ms': '20000',
        'ssl.endpoint.identification.algorithm': 'https',
      }),
      '/abs/client.properties',
    );
    expect(conn).toEqual({
      bootstrapServers: ['b1:9092', 'b2:9092'],
      securityProtocol: 'SASL_PLAINTEXT',
      clientId: 'ops',
      requestTimeoutMs: 20000,
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: { propertiesFile: '/abs/client.properties' } },
    });
    expect(JSON.stringify(conn)).not.toContain('"pw"');
  });

  test("PlainLoginModule without sasl.mechanism means PLAIN (not Kafka's GSSAPI default)", () => {
    const conn = connectionFromProperties(props({ 'sasl.jaas.config': `${PLAIN} required username="u" password="p";` }), '/f');
    expect(conn.sasl?.mechanism).toBe('PLAIN');
  });

  test.each([
    [{ 'sasl.jaas.config': `${SCRAM} required username="u" password="p";` }, /sasl\.mechanism is missing; set SCRAM-SHA-256 or SCRAM-SHA-512/],
    [
      { 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': `${SCRAM} required username="u" password="p";` },
      /sasl\.mechanism PLAIN does not match .*ScramLoginModule/,
    ],
    [{ 'bootstrap.servers': ' , ' }, /bootstrap\.servers is empty/],
    [{ 'request.timeout.ms': 'soon' }, /request\.timeout\.ms must be a positive integer/],
  ])('refuses %j', (p, message) => {
    expect(() => connectionFromProperties(props(p as Record<string, string>), '/f')).toThrow(PropertiesFileError);
    expect(() => connectionFromProperties(props(p as Record<string, string>), '/f')).toThrow(message);
  });
});

describe('spec with propertiesFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-props-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  write(
    'source.properties',
    [
      'bootstrap.servers=10.0.0.1:9093,10.0.0.2:9093',
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=PLAIN',
      `sasl.jaas.config=${PLAIN} required \\`,
      '    username="migrator" \\',
      '    password="s3cr\\\\\\"et";',
    ].join('\n'),
  );

  test('fills the connection, explicit spec fields win, the password stays in the file', () => {
    const spec = loadSpecFile(
      write(
        'spec.yaml',
        ['name: props', 'source:', '  propertiesFile: source.properties', '  clientId: explicit-id', 'target:', '  bootstrapServers: ["127.0.0.1:29092"]'].join(
          '\n',
        ),
      ),
    );
    expect(spec.source).toMatchObject({
      bootstrapServers: ['10.0.0.1:9093', '10.0.0.2:9093'],
      securityProtocol: 'SASL_PLAINTEXT',
      clientId: 'explicit-id',
      propertiesFile: join(dir, 'source.properties'),
      sasl: { mechanism: 'PLAIN', username: 'migrator', password: { propertiesFile: join(dir, 'source.properties') } },
    });
    expect(JSON.stringify(spec)).not.toContain('s3cr');
    // The worker re-reads the file; escapes are undone twice, as Kafka does: properties `\\\"` → jaas `\"` → `"`.
    expect(resolveSecret(spec.source.sasl!.password, 'source.sasl.password')).toBe('s3cr"et');
  });

  test('an explicit sasl block in the spec wins field by field', () => {
    const spec = loadSpecFile(
      write(
        'spec2.yaml',
        [
          'name: props2',
          'source:',
          '  propertiesFile: source.properties',
          '  sasl: { username: other, password: { env: OTHER_PW } }',
          'target:',
          '  bootstrapServers: ["127.0.0.1:29092"]',
        ].join('\n'),
      ),
    );
    expect(spec.source.sasl).toEqual({ mechanism: 'PLAIN', username: 'other', password: { env: 'OTHER_PW' } });
  });

  test('a missing or broken properties file is a SpecError naming the field and the file', () => {
    const missing = write(
      'spec3.yaml',
      ['name: p3', 'source:', '  propertiesFile: nope.properties', 'target:', '  bootstrapServers: ["127.0.0.1:29092"]'].join('\n'),
    );
    expect(() => loadSpecFile(missing)).toThrow(SpecError);
    expect(() => loadSpecFile(missing)).toThrow(/source\.propertiesFile: cannot read properties file .*nope\.properties \(ENOENT\)/);
    write('bad.properties', `sasl.jaas.config=${PLAIN} required username="x" password="y"`);
    const bad = write(
      'spec4.yaml',
      ['name: p4', 'source:', '  propertiesFile: bad.properties', 'target:', '  bootstrapServers: ["127.0.0.1:29092"]'].join('\n'),
    );
    expect(() => loadSpecFile(bad)).toThrow(/source\.propertiesFile: .*bad\.properties: sasl\.jaas\.config must end with ";"/);
  });

  test('a properties file without bootstrap.servers leaves the spec to say it', () => {
    write('nobootstrap.properties', 'security.protocol=PLAINTEXT\n');
    const spec = write(
      'spec5.yaml',
      ['name: p5', 'source:', '  propertiesFile: nobootstrap.properties', 'target:', '  bootstrapServers: ["127.0.0.1:29092"]'].join('\n'),
    );
    expect(() => loadSpecFile(spec)).toThrow(/source\.bootstrapServers: expected array/);
  });

  test('the worker-side resolution names the file when the password is gone', () => {
    const f = write('nopw.properties', `sasl.jaas.config=${PLAIN} required username="x";\n`);
    expect(() => passwordFromPropertiesFile(f)).toThrow(/has no password="\.\.\." option/);
    expect(() => resolveSecret({ propertiesFile: f }, 'source.sasl.password')).toThrow(SecretResolutionError);
    expect(() => resolveSecret({ propertiesFile: join(dir, 'gone.properties') }, 'source.sasl.password')).toThrow(
      /^source\.sasl\.password: cannot read properties file .*gone\.properties \(ENOENT\) \(on the worker \d+@.+\)$/,
    );
  });
});
