/**
 * Kafka client `.properties` files, as Kafka's own tools take them with `--command-config`: a spec
 * connection may name one (`propertiesFile: client.properties`) instead of repeating its settings.
 * The password inside `sasl.jaas.config` is never copied into the spec: the connection gets the reference
 * `{ propertiesFile: <abs path> }`, and the worker re-reads the file when it connects (src/config/secrets.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export class PropertiesFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertiesFileError';
  }
}

/**
 * Parses the java.util.Properties text format: `#`/`!` comments, `=`, `:` or whitespace separators,
 * backslash line continuations and escapes (`\t \n \r \f \uXXXX`, any other escaped char is itself).
 */
export function parseJavaProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  const physical = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < physical.length; i++) {
    let line = physical[i].replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // A line ending in an odd number of backslashes continues on the next one (leading blanks dropped).
    while (endsWithOddBackslashes(line) && i + 1 < physical.length) {
      line = line.slice(0, -1) + physical[++i].replace(/^[ \t\f]+/, '');
    }
    if (endsWithOddBackslashes(line)) line = line.slice(0, -1);
    const { key, value } = splitKeyValue(line);
    props.set(unescape(key), unescape(value));
  }
  return props;
}

function endsWithOddBackslashes(s: string): boolean {
  const m = /\\+$/.exec(s);
  return !!m && m[0].length % 2 === 1;
}

function splitKeyValue(line: string): { key: string; value: string } {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
    i++;
  }
  const key = line.slice(0, i);
  let rest = line.slice(i).replace(/^[ \t\f]+/, '');
  if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]+/, '');
  return { key, value: rest };
}

function unescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return { t: '\t', n: '\n', r: '\r', f: '\f' }[e] ?? e;
  });
}

export interface JaasCredentials {
  loginModule: string;
  /** 'PLAIN' for PlainLoginModule, 'SCRAM' for ScramLoginModule (the hash comes from sasl.mechanism). */
  kind: 'PLAIN' | 'SCRAM';
  username?: string;
  password?: string;
}

const LOGIN_MODULES: Record<string, JaasCredentials['kind']> = {
  'org.apache.kafka.common.security.plain.PlainLoginModule': 'PLAIN',
  'org.apache.kafka.common.security.scram.ScramLoginModule': 'SCRAM',
};

/**
 * Parses a client `sasl.jaas.config`: `<LoginModule> <flag> key=value key="quoted value";`. Quoted values
 * take backslash escapes as Kafka's JaasConfig (a StreamTokenizer) does: `\"`, `\\`, `\n`, `\t`, `\r`.
 */
export function parseJaasConfig(text: string, where: string): JaasCredentials {
  const tokens = tokenizeJaas(text, where);
  const [module, flag, ...rest] = tokens;
  if (!module || module.kind !== 'word')
    throw new PropertiesFileError(
      `${where}: sasl.jaas.config is empty; expected e.g. org.apache.kafka.common.security.plain.PlainLoginModule required username="..." password="...";`,
    );
  const kind = LOGIN_MODULES[module.text];
  if (!kind) {
    throw new PropertiesFileError(
      `${where}: sasl.jaas.config uses ${module.text}; only PlainLoginModule and ScramLoginModule (username/password) are supported`,
    );
  }
  if (!flag || flag.kind !== 'word' || !['required', 'requisite', 'sufficient', 'optional'].includes(flag.text.toLowerCase())) {
    throw new PropertiesFileError(`${where}: sasl.jaas.config: expected a control flag ("required") after ${module.text}`);
  }
  const options: Record<string, string> = {};
  let i = 0;
  let ended = false;
  while (i < rest.length) {
    const t = rest[i];
    if (t.kind === ';') {
      ended = true;
      if (i !== rest.length - 1) throw new PropertiesFileError(`${where}: sasl.jaas.config holds more than one login module; a client uses exactly one`);
      break;
    }
    const eq = rest[i + 1];
    const value = rest[i + 2];
    if (t.kind !== 'word' || eq?.kind !== '=' || !value || (value.kind !== 'word' && value.kind !== 'quoted')) {
      throw new PropertiesFileError(`${where}: sasl.jaas.config: expected key=value options after the control flag, e.g. username="alice"`);
    }
    options[t.text] = value.text;
    i += 3;
  }
  if (!ended) throw new PropertiesFileError(`${where}: sasl.jaas.config must end with ";"`);
  return { loginModule: module.text, kind, username: options.username, password: options.password };
}

type JaasToken = { kind: 'word' | 'quoted'; text: string } | { kind: '=' | ';'; text: string };

function tokenizeJaas(text: string, where: string): JaasToken[] {
  const tokens: JaasToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' || c === ';') {
      tokens.push({ kind: c, text: c });
      i++;
    } else if (c === '"') {
      let out = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new PropertiesFileError(`${where}: sasl.jaas.config has an unterminated quoted value`);
        const q = text[i];
        if (q === '"') break;
        if (q === '\\' && i + 1 < text.length) {
          const e = text[i + 1];
          out += { n: '\n', t: '\t', r: '\r' }[e] ?? e;
          i += 2;
          continue;
        }
        out += q;
        i++;
      }
      tokens.push({ kind: 'quoted', text: out });
      i++;
    } else {
      const m = /^[^\s=;"]+/.exec(text.slice(i))!;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** The connection fields a properties file provides, in the spec's shape (no password: a reference). */
export interface ConnectionFromProperties {
  bootstrapServers?: string[];
  securityProtocol?: string;
  clientId?: string;
  requestTimeoutMs?: number;
  sasl?: { mechanism?: string; username?: string; password?: { propertiesFile: string } };
  tls?: Record<string, unknown>;
}

/**
 * The `ssl.*` client properties in the spec's `tls` shape. Stores keep their path (relative ones are taken
 * from the properties file's folder); passwords and inline PEM values stay in the file as references.
 */
function tlsFromProperties(props: Map<string, string>, absPath: string): Record<string, unknown> | undefined {
  const tls: Record<string, unknown> = {};
  const ref = (property: string) => ({ propertiesFile: absPath, property });
  const has = (property: string) => (props.get(property) ?? '').trim() !== '';
  const location = (property: string) => {
    const value = props.get(property)!.trim();
    return isAbsolute(value) ? value : resolve(dirname(absPath), value);
  };
  const storeType = (property: string) => {
    const value = props.get(property)?.trim().toUpperCase();
    if (value === undefined || value === '') return undefined;
    if (value !== 'PKCS12' && value !== 'PEM' && value !== 'JKS') {
      throw new PropertiesFileError(`${absPath}: ${property} is ${value}; expected PKCS12, PEM or JKS (JKS must be converted to PKCS12)`);
    }
    return value;
  };
  if (has('ssl.truststore.location')) {
    tls.truststore = {
      file: location('ssl.truststore.location'),
      ...(storeType('ssl.truststore.type') ? { type: storeType('ssl.truststore.type') } : {}),
      ...(has('ssl.truststore.password') ? { password: ref('ssl.truststore.password') } : {}),
    };
  }
  if (has('ssl.truststore.certificates')) tls.ca = ref('ssl.truststore.certificates');
  if (has('ssl.keystore.location')) {
    tls.keystore = {
      file: location('ssl.keystore.location'),
      ...(storeType('ssl.keystore.type') ? { type: storeType('ssl.keystore.type') } : {}),
      ...(has('ssl.keystore.password') ? { password: ref('ssl.keystore.password') } : {}),
      ...(has('ssl.key.password') ? { keyPassword: ref('ssl.key.password') } : {}),
    };
  }
  if (has('ssl.keystore.certificate.chain')) tls.cert = ref('ssl.keystore.certificate.chain');
  if (has('ssl.keystore.key')) {
    tls.key = ref('ssl.keystore.key');
    if (has('ssl.key.password')) tls.keyPassword = ref('ssl.key.password');
  }
  // Kafka: an empty ssl.endpoint.identification.algorithm turns hostname verification off.
  const algorithm = props.get('ssl.endpoint.identification.algorithm');
  if (algorithm !== undefined) tls.verifyHostname = algorithm.trim() !== '';
  return Object.keys(tls).length ? tls : undefined;
}

/** The worker side: one property of a properties file (an ssl.* password or inline PEM), never logged. */
export function propertyFromPropertiesFile(absPath: string, property: string): string {
  const value = readPropertiesFile(absPath).get(property);
  if (value === undefined || value.trim() === '') throw new PropertiesFileError(`${absPath} has no ${property}`);
  return value;
}

export function readPropertiesFile(absPath: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(absPath, 'utf8');
  } catch (e) {
    throw new PropertiesFileError(`cannot read properties file ${absPath} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseJavaProperties(text);
}

/** Maps the client properties kafka-migrate understands onto spec connection fields; others are ignored. */
export function connectionFromProperties(props: Map<string, string>, absPath: string): ConnectionFromProperties {
  const out: ConnectionFromProperties = {};
  const servers = props.get('bootstrap.servers');
  if (servers !== undefined) {
    out.bootstrapServers = servers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!out.bootstrapServers.length) throw new PropertiesFileError(`${absPath}: bootstrap.servers is empty; expected host:port[,host:port...]`);
  }
  const protocol = props.get('security.protocol');
  if (protocol) out.securityProtocol = protocol.trim().toUpperCase();
  const clientId = props.get('client.id');
  if (clientId) out.clientId = clientId.trim();
  const requestTimeout = props.get('request.timeout.ms');
  if (requestTimeout) {
    const n = Number(requestTimeout.trim());
    if (!Number.isInteger(n) || n <= 0) throw new PropertiesFileError(`${absPath}: request.timeout.ms must be a positive integer, got "${requestTimeout}"`);
    out.requestTimeoutMs = n;
  }
  const jaas = props.get('sasl.jaas.config');
  const mechanism = props.get('sasl.mechanism')?.trim().toUpperCase();
  if (jaas !== undefined) {
    const creds = parseJaasConfig(jaas, absPath);
    if (mechanism && !mechanismMatches(mechanism, creds.kind)) {
      throw new PropertiesFileError(`${absPath}: sasl.mechanism ${mechanism} does not match ${creds.loginModule}`);
    }
    if (!mechanism && creds.kind === 'SCRAM') {
      throw new PropertiesFileError(`${absPath}: sasl.mechanism is missing; set SCRAM-SHA-256 or SCRAM-SHA-512 for ScramLoginModule`);
    }
    out.sasl = {
      // Kafka's own default (GSSAPI) cannot be meant with a PlainLoginModule: PLAIN is.
      mechanism: mechanism ?? 'PLAIN',
      ...(creds.username !== undefined ? { username: creds.username } : {}),
      ...(creds.password !== undefined ? { password: { propertiesFile: absPath } } : {}),
    };
  } else if (mechanism) {
    out.sasl = { mechanism };
  }
  // ssl.* settings only matter under a TLS protocol (a client ignores them otherwise, and so do we).
  const tls = out.securityProtocol && !out.securityProtocol.endsWith('SSL') ? undefined : tlsFromProperties(props, absPath);
  if (tls) out.tls = tls;
  return out;
}

function mechanismMatches(mechanism: string, kind: JaasCredentials['kind']): boolean {
  return kind === 'PLAIN' ? mechanism === 'PLAIN' : mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512';
}

/** The worker side: the password of a properties file's sasl.jaas.config (never logged, never returned). */
export function passwordFromPropertiesFile(absPath: string): string {
  const jaas = readPropertiesFile(absPath).get('sasl.jaas.config');
  if (jaas === undefined) throw new PropertiesFileError(`${absPath} has no sasl.jaas.config`);
  const password = parseJaasConfig(jaas, absPath).password;
  if (password === undefined || password === '') throw new PropertiesFileError(`${absPath}: sasl.jaas.config has no password="..." option`);
  return password;
}

/**
 * Merges a properties file under a raw spec connection (explicit spec fields win, field by field, also
 * inside `sasl`). Returns the connection with `propertiesFile` made absolute.
 */
export function mergePropertiesIntoConnection(raw: Record<string, unknown>, absPath: string): Record<string, unknown> {
  const fromFile = connectionFromProperties(readPropertiesFile(absPath), absPath);
  const merged: Record<string, unknown> = { ...fromFile, ...raw, propertiesFile: absPath };
  const rawSasl = raw.sasl as Record<string, unknown> | undefined;
  if (fromFile.sasl || rawSasl) merged.sasl = { ...(fromFile.sasl ?? {}), ...(rawSasl ?? {}) };
  // A file-supplied SASL block is meaningless under a non-SASL protocol given explicitly in the spec.
  const protocol = String(merged.securityProtocol ?? 'PLAINTEXT');
  if (!rawSasl && fromFile.sasl && !protocol.startsWith('SASL_')) delete merged.sasl;
  const rawTls = raw.tls as Record<string, unknown> | undefined;
  if (fromFile.tls || rawTls) merged.tls = { ...(fromFile.tls ?? {}), ...(rawTls ?? {}) };
  if (!rawTls && fromFile.tls && !protocol.endsWith('SSL')) delete merged.tls;
  return merged;
}
