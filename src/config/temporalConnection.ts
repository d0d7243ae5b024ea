/**
 * Where and how the worker, the CLI, the demo and the bench reach Temporal, the way the Temporal ecosystem
 * configures it (@temporalio/envconfig): a `temporal.toml` profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE),
 * then the TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_* variables, then our flags
 * (--tls, --tls-ca-path, --tls-cert-path, --tls-key-path, --tls-server-name, --api-key-file). TLS files are
 * read and checked here, so a missing or wrong file is named before any connection is tried. The API key is
 * never logged: `describeTemporalConnection` says only whether one is set.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { resolve } from 'node:path';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { TASK_QUEUE_DEFAULT } from '../workflows/ids';

/** The flags the worker and the CLI accept (commander's camel-cased names). */
export interface TemporalConnectionFlags {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  profile?: string;
  configFile?: string;
  tls?: boolean;
  tlsCaPath?: string;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsServerName?: string;
  apiKeyFile?: string;
}

export interface TemporalConnectionConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** undefined: plaintext. */
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
  /** The client certificate's subject, for logs. */
  clientCertSubject?: string;
}

export class TemporalConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalConnectionError';
  }
}

/** One file setting and where it was given (a flag, a variable or the profile), for error messages. */
interface FileSetting {
  source: ConfigDataSource;
  origin: string;
}

function fileSetting(
  flagValue: string | undefined,
  flag: string,
  env: NodeJS.ProcessEnv,
  envVar: string,
  fromProfile: ConfigDataSource | undefined,
  profile: string,
) {
  if (flagValue) return { source: { path: resolve(flagValue) }, origin: flag };
  if (!fromProfile) return undefined;
  const fromEnv = env[`${envVar}_PATH`] !== undefined || env[`${envVar}_DATA`] !== undefined;
  return { source: fromProfile, origin: fromEnv ? (env[`${envVar}_PATH`] !== undefined ? `${envVar}_PATH` : `${envVar}_DATA`) : `profile "${profile}"` };
}

function readSetting(s: FileSetting, expected: string): { bytes: Buffer; where: string } {
  if ('data' in s.source) return { bytes: Buffer.from(s.source.data), where: s.origin };
  const where = `${s.origin} ${s.source.path}`;
  try {
    return { bytes: readFileSync(s.source.path), where };
  } catch (e) {
    throw new TemporalConnectionError(`${where}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'}); expected ${expected}`);
  }
}

function certificates(bytes: Buffer, where: string, expected: string): X509Certificate[] {
  const blocks = bytes.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new TemporalConnectionError(`${where}: holds no PEM certificate; expected ${expected} ("-----BEGIN CERTIFICATE-----")`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new TemporalConnectionError(`${where}: certificate ${i + 1} is not a valid X.509 certificate (${(e as Error).message}); expected ${expected}`);
    }
  });
}

/** The TLS settings, each file read and checked; undefined when TLS is off. */
function tlsConfig(
  profile: ClientConfigProfile,
  flags: TemporalConnectionFlags,
  env: NodeJS.ProcessEnv,
  profileName: string,
): { tls?: TLSConfig; subject?: string } {
  const p = profile.tls;
  const ca = fileSetting(flags.tlsCaPath, '--tls-ca-path', env, 'TEMPORAL_TLS_SERVER_CA_CERT', p?.serverCACert, profileName);
  const cert = fileSetting(flags.tlsCertPath, '--tls-cert-path', env, 'TEMPORAL_TLS_CLIENT_CERT', p?.clientCert, profileName);
  const key = fileSetting(flags.tlsKeyPath, '--tls-key-path', env, 'TEMPORAL_TLS_CLIENT_KEY', p?.clientKey, profileName);
  const serverName = flags.tlsServerName ?? p?.serverName;
  const anyFlag = flags.tls || flags.tlsCaPath || flags.tlsCertPath || flags.tlsKeyPath || flags.tlsServerName;
  // envconfig: TLS is on with an explicit tls table (not disabled) or an API key; our TLS flags turn it on too.
  const enabled = anyFlag || (p ? p.disabled !== true : false) || profile.apiKey !== undefined || flags.apiKeyFile !== undefined;
  if (!enabled) return {};
  if (cert && !key)
    throw new TemporalConnectionError(`${cert.origin}: a client certificate needs its private key; expected --tls-key-path (or TEMPORAL_TLS_CLIENT_KEY_PATH)`);
  if (key && !cert)
    throw new TemporalConnectionError(`${key.origin}: a private key needs its client certificate; expected --tls-cert-path (or TEMPORAL_TLS_CLIENT_CERT_PATH)`);
  const tls: TLSConfig = {};
  if (serverName) tls.serverNameOverride = serverName;
  if (ca) {
    const { bytes, where } = readSetting(ca, "the CA certificate (PEM) that signed the Temporal server's certificate");
    certificates(bytes, where, 'the CA certificate (PEM) of the Temporal server');
    tls.serverRootCACertificate = bytes;
  }
  let subject: string | undefined;
  if (cert && key) {
    const c = readSetting(cert, 'the client certificate (PEM) for mTLS');
    const [leaf] = certificates(c.bytes, c.where, 'the client certificate (PEM) for mTLS');
    const k = readSetting(key, 'the private key (PEM) of the client certificate');
    let privateKey;
    try {
      privateKey = createPrivateKey(k.bytes);
    } catch (e) {
      throw new TemporalConnectionError(
        `${k.where}: holds no usable private key (${(e as Error).message}); expected the unencrypted PEM private key of the client certificate`,
      );
    }
    if (!leaf.checkPrivateKey(privateKey)) {
      throw new TemporalConnectionError(
        `${k.where}: this private key does not belong to the client certificate ${c.where} (${leaf.subject.replace(/\n/g, ', ')})`,
      );
    }
    if (Date.parse(leaf.validTo) < Date.now()) {
      throw new TemporalConnectionError(`${c.where}: the client certificate expired on ${leaf.validTo}; expected a valid certificate`);
    }
    tls.clientCertPair = { crt: c.bytes, key: k.bytes };
    subject = leaf.subject.replace(/\n/g, ', ');
  }
  return { tls, subject };
}

/** The profile, the environment and the flags, merged (flags win) and checked. */
export function loadTemporalConnection(flags: TemporalConnectionFlags = {}, env: NodeJS.ProcessEnv = process.env): TemporalConnectionConfig {
  const configFile = flags.configFile ?? env.TEMPORAL_CONFIG_FILE;
  // envconfig ignores a missing file; one named explicitly must exist.
  if (configFile && !existsSync(configFile)) {
    throw new TemporalConnectionError(
      `${flags.configFile ? '--config-file' : 'TEMPORAL_CONFIG_FILE'} ${configFile}: no such file; expected a temporal.toml profile file`,
    );
  }
  const profileName = flags.profile ?? env.TEMPORAL_PROFILE ?? 'default';
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      profile: flags.profile,
      ...(configFile ? { configSource: { path: configFile } } : {}),
      overrideEnvVars: env as Record<string, string>,
    });
  } catch (e) {
    throw new TemporalConnectionError(`Temporal connection profile: ${(e as Error).message}${configFile ? ` (in ${configFile})` : ''}`);
  }
  let apiKey = profile.apiKey;
  if (flags.apiKeyFile) {
    try {
      apiKey = readFileSync(flags.apiKeyFile, 'utf8').trim();
    } catch (e) {
      throw new TemporalConnectionError(
        `--api-key-file ${flags.apiKeyFile}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'}); expected a file holding the API key`,
      );
    }
    if (!apiKey) throw new TemporalConnectionError(`--api-key-file ${flags.apiKeyFile}: the file is empty; expected the API key`);
  }
  const { tls, subject } = tlsConfig(profile, flags, env, profileName);
  return {
    address: flags.address ?? profile.address ?? '127.0.0.1:7233',
    namespace: flags.namespace ?? profile.namespace ?? 'default',
    taskQueue: flags.taskQueue ?? env.KM_TASK_QUEUE ?? TASK_QUEUE_DEFAULT,
    ...(tls ? { tls } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(profile.grpcMeta && Object.keys(profile.grpcMeta).length ? { metadata: profile.grpcMeta } : {}),
    ...(subject ? { clientCertSubject: subject } : {}),
  };
}

/** Options for @temporalio/client Connection.connect and @temporalio/worker NativeConnection.connect (same shape). */
export function temporalConnectOptions(c: TemporalConnectionConfig): { address: string; tls?: TLSConfig; apiKey?: string; metadata?: Record<string, string> } {
  return { address: c.address, ...(c.tls ? { tls: c.tls } : {}), ...(c.apiKey ? { apiKey: c.apiKey } : {}), ...(c.metadata ? { metadata: c.metadata } : {}) };
}

/** One line for logs: address, namespace, TLS mode, whether an API key is set (never the key). */
export function describeTemporalConnection(c: TemporalConnectionConfig): string {
  const tls = !c.tls
    ? 'plaintext'
    : `TLS${c.clientCertSubject ? ` with client certificate ${c.clientCertSubject}` : ''}${c.tls.serverNameOverride ? `, server name ${c.tls.serverNameOverride}` : ''}${c.tls.serverRootCACertificate ? ', private CA' : ''}`;
  return `${c.address} (namespace ${c.namespace}; ${tls}; API key ${c.apiKey ? 'set' : 'none'})`;
}

/**
 * The TLS handshake with the configured CA, client certificate and server name, on its own: gRPC clients
 * report only "failed to connect before the deadline", this says why. undefined: the handshake succeeded.
 */
export function probeTemporalTls(c: TemporalConnectionConfig, timeoutMs = 5000): Promise<string | undefined> {
  if (!c.tls) return Promise.resolve(undefined);
  const tls = c.tls;
  const [host, port] = [c.address.slice(0, c.address.lastIndexOf(':')), Number(c.address.slice(c.address.lastIndexOf(':') + 1))];
  return new Promise((resolveProbe) => {
    let settled = false;
    const done = (reason: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolveProbe(reason);
    };
    const socket = tlsConnect({
      host,
      port,
      servername: tls.serverNameOverride ?? (isIP(host) ? undefined : host),
      ...(tls.serverNameOverride ? { checkServerIdentity: (_h: string, cert: PeerCertificate) => checkServerIdentity(tls.serverNameOverride!, cert) } : {}),
      ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
      ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
      ALPNProtocols: ['h2'],
    });
    // TLS 1.3: a refused client certificate arrives as an alert just after the handshake.
    socket.once('secureConnect', () => {
      socket.resume(); // read, so that the alert surfaces as an error
      setTimeout(() => done(undefined), 3000);
    });
    // A Node or proxy server that refuses the client certificate may just hang up, without an alert.
    socket.once('close', () => done('the server closed the connection right after the TLS handshake'));
    socket.once('error', (e) => done(e.message.replace(/:\.\.\/deps\/openssl\S*/g, '').trim()));
    const timer = setTimeout(() => done(undefined), timeoutMs);
  });
}

/** explainTemporalConnectError, with the reason of a failed TLS handshake found by probing it. */
export async function diagnoseTemporalConnectError(e: unknown, c: TemporalConnectionConfig): Promise<string> {
  const reason = await probeTemporalTls(c).catch(() => undefined);
  return explainTemporalConnectError(reason ? new Error(reason, { cause: e }) : e, c);
}

/** A failed connection, explained: a TLS problem names the setting to fix; the API key never appears. */
export function explainTemporalConnectError(e: unknown, c: TemporalConnectionConfig): string {
  const parts: string[] = [];
  for (let cur = e as { message?: string; cause?: unknown; details?: string } | undefined, depth = 0; cur && depth < 6; depth++) {
    if (cur.message) parts.push(cur.message);
    if (cur.details && cur.details !== cur.message) parts.push(cur.details);
    cur = cur.cause as typeof cur;
  }
  let text = parts.join(': ');
  if (c.apiKey) text = text.split(c.apiKey).join('<api key>');
  const where = `Temporal at ${c.address}`;
  if (/UnknownIssuer|unknown ?issuer|self[- ]signed|unable to verify|certificate verify failed|invalid peer certificate/i.test(text)) {
    return `${where}: its TLS certificate is not trusted (${text}); expected --tls-ca-path / TEMPORAL_TLS_SERVER_CA_CERT_PATH to name the CA that signed it`;
  }
  if (/NotValidForName|not valid for name|hostname|does not match|altnames/i.test(text)) {
    return `${where}: its TLS certificate does not name that host (${text}); expected --tls-server-name / TEMPORAL_TLS_SERVER_NAME to be a name in the certificate`;
  }
  if (/certificate required|bad certificate|unknown ca|CertificateRequired|BadCertificate|UnknownCA|handshake|closed the connection right after/i.test(text)) {
    return c.tls?.clientCertPair
      ? `${where}: the TLS handshake failed, the server did not accept the client certificate ${c.clientCertSubject ?? ''} (${text}); expected a certificate signed by a CA the server trusts`
      : `${where}: the TLS handshake failed (${text}); if the server requires mTLS, expected --tls-cert-path and --tls-key-path (or TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH)`;
  }
  return `cannot reach ${where} (${text})`;
}
