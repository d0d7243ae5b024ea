/**
 * Temporal over mTLS: a TLS-terminating proxy (client certificate required) in front of the dev server, with
 * certificates made here by openssl. The real worker process connects through it with the TEMPORAL_TLS_*
 * variables (@temporalio/envconfig) and an API key; the CLI with the --tls-* flags and with a temporal.toml
 * profile runs `preflight -f`, which the worker answers. Missing or wrong certificates give an error that
 * names the file and what was expected; the API key never appears in any output.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo } from './helpers/operator';
import { run } from '../src/cli/main';
import { MIGRATOR_PASSWORD_FILE, SOURCE_SASL_BOOTSTRAP, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';
import { startTlsProxy, type TlsProxy } from './helpers/tlsProxy';
import { buildWorker, WorkerProcess } from './helpers/workerProcess';

const dir = mkdtempSync(join(tmpdir(), 'km-temporal-tls-'));
const f = (name: string) => join(dir, name);
const queue = `km-tls-${uniqueSuffix()}`;
const API_KEY = `km-test-api-key-${uniqueSuffix()}`;
const upstream = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, and leaf certificates it signs. */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`));
}
function makeLeaf(ca: string, name: string, ext: string): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
  writeFileSync(f(`${name}.ext`), `${ext}\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    f(`${name}.csr`),
    '-CA',
    f(`${ca}.pem`),
    '-CAkey',
    f(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f(`${name}.ext`),
    '-out',
    f(`${name}.pem`),
  );
}

let proxy: TlsProxy;
let worker: WorkerProcess;
const specFile = f('spec.yaml');

beforeAll(async () => {
  makeCa('temporal-ca');
  makeLeaf('temporal-ca', 'temporal-frontend', 'subjectAltName=DNS:temporal.internal\nextendedKeyUsage=serverAuth');
  makeLeaf('temporal-ca', 'km-worker', 'extendedKeyUsage=clientAuth');
  makeLeaf('temporal-ca', 'km-operator', 'extendedKeyUsage=clientAuth');
  makeCa('rogue-ca');
  makeLeaf('rogue-ca', 'rogue-client', 'extendedKeyUsage=clientAuth');
  proxy = await startTlsProxy({
    key: readFileSync(f('temporal-frontend.key')),
    cert: readFileSync(f('temporal-frontend.pem')),
    ca: readFileSync(f('temporal-ca.pem')),
    upstream,
  });
  writeFileSync(f('api.key'), `${API_KEY}\n`);
  writeFileSync(
    specFile,
    [
      `name: tls-${uniqueSuffix()}`,
      'source:',
      `  bootstrapServers: ["${SOURCE_SASL_BOOTSTRAP}"]`,
      '  securityProtocol: SASL_PLAINTEXT',
      `  sasl: { mechanism: PLAIN, username: migrator, password: { file: ${JSON.stringify(MIGRATOR_PASSWORD_FILE)} } }`,
      'target:',
      `  bootstrapServers: ["${TARGET_BOOTSTRAP}"]`,
      // a limit the shared target is always over: the preflight result is FAIL for certain (exit 1)
      '  capacity: { maxPartitions: 1 }',
      'scope: { topics: ["km-tls-none\\\\..*"] }',
      'thresholds: { capacitySampleSeconds: 1 }',
      `reports: { dir: ${JSON.stringify(f('reports'))} }`,
    ].join('\n'),
  );
  // The worker: the Temporal ecosystem's variables only (the server certificate names temporal.internal).
  worker = new WorkerProcess({
    taskQueue: queue,
    logFile: f('worker.log'),
    env: {
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: f('temporal-ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: f('km-worker.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: f('km-worker.key'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      TEMPORAL_API_KEY: API_KEY,
    },
  });
  await worker.start();
}, 600_000);

afterAll(async () => {
  await worker?.stop();
  await proxy?.close();
});

const mtlsFlags = () => [
  '--address',
  proxy.address,
  '--tls-ca-path',
  f('temporal-ca.pem'),
  '--tls-cert-path',
  f('km-operator.pem'),
  '--tls-key-path',
  f('km-operator.key'),
  '--tls-server-name',
  'temporal.internal',
];

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await run(['--task-queue', queue, '--timeout', '60', ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

test('the worker connects over mTLS from TEMPORAL_TLS_* variables; its log names the certificate, never the API key', () => {
  const log = readFileSync(f('worker.log'), 'utf8');
  expect(log).toMatch(
    new RegExp(
      `\\[worker\\] polling ${queue} on ${proxy.address.replace(/\./g, '\\.')} \\(namespace default; TLS with client certificate CN=km-worker, server name temporal\\.internal, private CA; API key set\\)`,
    ),
  );
  expect(log).not.toContain(API_KEY);
  expect(proxy.acceptedClients).toContain('km-worker');
});

test('the CLI with --tls-* flags runs preflight -f, answered by the worker, all through the mTLS endpoint', async () => {
  const r = await cli(...mtlsFlags(), '--api-key-file', f('api.key'), 'preflight', '-f', specFile);
  expect(r.err).toMatch(/^error: preflight failed \([^)]*target-state[^)]*\)/);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/^# Preflight of migration tls-\w+: FAIL/m);
  expect(proxy.acceptedClients).toContain('km-operator');
  expect(r.out + r.err).not.toContain(API_KEY);
});

test('the CLI from a temporal.toml profile (--config-file / --profile, as TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE)', async () => {
  const toml = f('temporal.toml');
  writeFileSync(
    toml,
    [
      '[profile.default]',
      'address = "127.0.0.1:1"',
      '',
      '[profile.secure]',
      `address = "${proxy.address}"`,
      'namespace = "default"',
      '[profile.secure.tls]',
      `server_ca_cert_path = "${f('temporal-ca.pem')}"`,
      `client_cert_path = "${f('km-operator.pem')}"`,
      `client_key_path = "${f('km-operator.key')}"`,
      'server_name = "temporal.internal"',
    ].join('\n'),
  );
  const r = await cli('--config-file', toml, '--profile', 'secure', 'list');
  expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
  const missing = await cli('--config-file', toml, '--profile', 'nope', 'list');
  expect(missing.code).toBe(2);
  expect(missing.err).toBe(`error: Temporal connection profile: Profile 'nope' not found in config data (in ${toml})`);
  const noFile = await cli('--config-file', f('absent.toml'), 'list');
  expect(noFile.err).toBe(`error: --config-file ${f('absent.toml')}: no such file; expected a temporal.toml profile file`);
});

test('missing or wrong certificates: the error names the file, or the setting, and what was expected', async () => {
  const flags = mtlsFlags();
  const withFlag = (flag: string, value: string) => {
    const out = [...flags];
    out[out.indexOf(flag) + 1] = value;
    return out;
  };
  const missingCert = await cli(...withFlag('--tls-cert-path', f('absent.pem')), 'list');
  expect(missingCert).toMatchObject({
    code: 2,
    err: `error: --tls-cert-path ${f('absent.pem')}: cannot read the file (ENOENT); expected the client certificate (PEM) for mTLS`,
  });

  const keyOfAnother = await cli(...withFlag('--tls-key-path', f('km-worker.key')), 'list');
  expect(keyOfAnother).toMatchObject({
    code: 2,
    err: `error: --tls-key-path ${f('km-worker.key')}: this private key does not belong to the client certificate --tls-cert-path ${f('km-operator.pem')} (CN=km-operator)`,
  });

  const notPem = await cli(...withFlag('--tls-ca-path', f('api.key')), 'list');
  expect(notPem.err).toBe(
    `error: --tls-ca-path ${f('api.key')}: holds no PEM certificate; expected the CA certificate (PEM) of the Temporal server ("-----BEGIN CERTIFICATE-----")`,
  );

  // No client certificate at all: the endpoint requires one.
  const noClientCert = await cli('--address', proxy.address, '--tls-ca-path', f('temporal-ca.pem'), '--tls-server-name', 'temporal.internal', 'list');
  expect(noClientCert.code).toBe(5);
  expect(noClientCert.err).toMatch(
    /^error: Temporal at 127\.0\.0\.1:\d+: the TLS handshake failed \(.+\); if the server requires mTLS, expected --tls-cert-path and --tls-key-path/,
  );

  // A client certificate from a CA the endpoint does not trust.
  const rogue = await cli(...withFlag('--tls-cert-path', f('rogue-client.pem')).map((a) => (a === f('km-operator.key') ? f('rogue-client.key') : a)), 'list');
  expect(rogue.code).toBe(5);
  expect(rogue.err).toMatch(
    /^error: Temporal at 127\.0\.0\.1:\d+: the TLS handshake failed, the server did not accept the client certificate CN=rogue-client \(.+\)/,
  );

  // The server's certificate checked against the wrong CA, and against the wrong name.
  const wrongCa = await cli(...withFlag('--tls-ca-path', f('rogue-ca.pem')), 'list');
  expect(wrongCa.code).toBe(5);
  expect(wrongCa.err).toMatch(
    /its TLS certificate is not trusted \(.+\); expected --tls-ca-path \/ TEMPORAL_TLS_SERVER_CA_CERT_PATH to name the CA that signed it/,
  );
  const wrongName = await cli(...withFlag('--tls-server-name', 'other.internal'), 'list');
  expect(wrongName.code).toBe(5);
  expect(wrongName.err).toMatch(
    /its TLS certificate does not name that host \(.+\); expected --tls-server-name \/ TEMPORAL_TLS_SERVER_NAME to be a name in the certificate/,
  );
  expect(proxy.refused.length).toBeGreaterThanOrEqual(2);
});

test('the worker with a missing key file, or a certificate the endpoint does not trust, exits naming the file or the certificate; the API key stays out', async () => {
  // Asynchronous: the proxy runs in this process and must keep serving while the worker starts.
  const startWorker = (env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolveRun) => {
      const child = spawn(process.execPath, [buildWorker()], {
        env: {
          ...process.env,
          KM_TASK_QUEUE: queue,
          TEMPORAL_ADDRESS: proxy.address,
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: f('temporal-ca.pem'),
          TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
          TEMPORAL_API_KEY: API_KEY,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.once('exit', (status) => {
        clearTimeout(timer);
        resolveRun({ status, stdout, stderr });
      });
    });
  const missingKey = await startWorker({ TEMPORAL_TLS_CLIENT_CERT_PATH: f('km-worker.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: f('absent.key') });
  expect(missingKey.status).toBe(1);
  expect(missingKey.stderr).toContain(
    `[worker] TEMPORAL_TLS_CLIENT_KEY_PATH ${f('absent.key')}: cannot read the file (ENOENT); expected the private key (PEM) of the client certificate`,
  );
  const rogue = await startWorker({ TEMPORAL_TLS_CLIENT_CERT_PATH: f('rogue-client.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: f('rogue-client.key') });
  expect(rogue.status).toBe(1);
  expect(rogue.stderr).toMatch(
    /\[worker\] Temporal at 127\.0\.0\.1:\d+: the TLS handshake failed, the server did not accept the client certificate CN=rogue-client \(.+\)/,
  );
  for (const r of [missingKey, rogue]) expect(r.stdout + r.stderr).not.toContain(API_KEY);
});
