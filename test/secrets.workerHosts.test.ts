/**
 * Secret references resolve on whichever worker runs the activity: a relative `{ file: }` in that worker's
 * secrets directory, an absolute one as it is, `{ env: }` in its environment. A worker lacking the secret says
 * which worker it is and which reference it could not resolve, never a value. Each call below is one
 * "host" with its own KM_SECRETS_DIR / environment (test/workerHosts.workflow.test.ts runs two real worker processes).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpecFile } from '../src/config/loadSpec';
import { resolveSecret, SecretResolutionError } from '../src/config/secrets';
import type { SecretRef } from '../src/config/spec';
import { applyHostSettings, HostSettingsError } from '../src/worker/hostSettings';

const dir = mkdtempSync(join(tmpdir(), 'km-secret-hosts-'));
const hostA = join(dir, 'host-a');
const hostB = join(dir, 'host-b');
mkdirSync(hostA);
mkdirSync(hostB);
writeFileSync(join(hostA, 'migrator.password'), 'secret-of-host-a\n');
writeFileSync(join(hostB, 'migrator.password'), 'secret-of-host-b\n');

/** Resolves `ref` with exactly `env` as this process's worker settings (another "host"); returns the value or the error. */
function resolveOnHost(ref: SecretRef, env: Record<string, string>): { value?: string; error?: string } {
  const keys = ['KM_SECRETS_DIR', 'KM_WORKER_IDENTITY', 'KM_PW'];
  const saved = keys.map((k) => [k, process.env[k]] as const);
  for (const k of keys) delete process.env[k];
  Object.assign(process.env, env);
  try {
    return { value: resolveSecret(ref, 'source.sasl.password') };
  } catch (e) {
    expect(e).toBeInstanceOf(SecretResolutionError);
    return { error: (e as Error).message };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('a relative file reference reads the secrets directory of the worker that resolves it', () => {
  expect(resolveOnHost({ file: 'migrator.password' }, { KM_SECRETS_DIR: hostA })).toEqual({ value: 'secret-of-host-a' });
  expect(resolveOnHost({ file: 'migrator.password' }, { KM_SECRETS_DIR: hostB })).toEqual({ value: 'secret-of-host-b' });
  // An absolute reference ignores the secrets directory.
  expect(resolveOnHost({ file: join(hostB, 'migrator.password') }, { KM_SECRETS_DIR: hostA })).toEqual({ value: 'secret-of-host-b' });
});

test('a worker lacking the file names itself, the reference and where it looked, not the value', () => {
  const empty = join(dir, 'host-c');
  mkdirSync(empty);
  const { error, value } = resolveOnHost({ file: 'migrator.password' }, { KM_SECRETS_DIR: empty, KM_WORKER_IDENTITY: 'worker-c@host-c' });
  expect(value).toBeUndefined();
  expect(error).toBe(
    `source.sasl.password: cannot read file migrator.password (${join(empty, 'migrator.password')}: relative to the secrets directory KM_SECRETS_DIR=${empty}) on the worker worker-c@host-c (ENOENT)`,
  );
});

test('an environment reference is per worker: set on one, missing on the other (named)', () => {
  expect(resolveOnHost({ env: 'KM_PW' }, { KM_PW: 'from-env-a', KM_WORKER_IDENTITY: 'a' })).toEqual({ value: 'from-env-a' });
  const { error } = resolveOnHost({ env: 'KM_PW' }, { KM_WORKER_IDENTITY: 'worker-b@host-b' });
  expect(error).toBe('source.sasl.password: environment variable KM_PW is not set on the worker worker-b@host-b');
  // Without KM_WORKER_IDENTITY the worker is named by Temporal's default identity, pid@host.
  expect(resolveOnHost({ env: 'KM_PW' }, {}).error).toMatch(/is not set on the worker \d+@\S+$/);
});

test('the spec keeps a relative file reference as written: the operator’s folder does not exist on the workers', () => {
  const specPath = join(dir, 'spec.yaml');
  writeFileSync(
    specPath,
    [
      'name: hosts',
      'source:',
      '  bootstrapServers: ["127.0.0.1:19093"]',
      '  securityProtocol: SASL_PLAINTEXT',
      '  sasl: { mechanism: PLAIN, username: migrator, password: { file: migrator.password } }',
      'target:',
      '  bootstrapServers: ["127.0.0.1:29092"]',
    ].join('\n'),
  );
  expect(loadSpecFile(specPath).source.sasl?.password).toEqual({ file: 'migrator.password' });
});

test('a worker started with a secrets directory that does not exist fails at start, naming it', () => {
  const saved = process.env.KM_SECRETS_DIR;
  try {
    expect(() => applyHostSettings({ secretsDir: join(dir, 'nope') })).toThrow(HostSettingsError);
    expect(() => applyHostSettings({ secretsDir: join(dir, 'nope') })).toThrow(
      `secrets directory ${join(dir, 'nope')} (--secrets-dir / KM_SECRETS_DIR): expected an existing directory`,
    );
  } finally {
    if (saved === undefined) delete process.env.KM_SECRETS_DIR;
    else process.env.KM_SECRETS_DIR = saved;
  }
});
