/**
 * kafka-migrate installs and runs like a tool: `npm pack` of (a copy of) this repository builds the compiled
 * package, `npm install -g --prefix` of the tarball gives working `kafka-migrate` and `kafka-migrate-worker`
 * commands (shebang, bin, files), and `npx --package <tarball> kafka-migrate` runs too. The installed worker, with
 * its own secrets directory, answers a read-only `preflight` the installed CLI asks for from a folder with no
 * secret in it and no KM_SECRETS_DIR. Dependencies come from the npm cache (`npm ci` filled it) or the registry.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { MIGRATOR_PASSWORD_FILE, SOURCE_SASL_BOOTSTRAP, TARGET_BOOTSTRAP, uniqueSuffix } from './helpers/stack';
import { WorkerProcess } from './helpers/workerProcess';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'km-install-'));
const prefix = join(dir, 'prefix');
const bin = (name: string) => join(prefix, 'bin', name);
/** The environment of a shell on another machine: no secrets directory, nothing of this repository's. */
const plainEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const k of ['KM_SECRETS_DIR', 'KM_REPORTS_DIR', 'KM_TASK_QUEUE', 'KM_BUNDLE_PATH', 'KM_SKIP_STACK']) delete env[k];
  return env;
};
let tarball: string;
let packedFiles: string[];
let npxHelp: Promise<string>;

jest.setTimeout(600_000);

beforeAll(async () => {
  // A copy of the sources as a checkout has them; node_modules linked so that prepack's tsc finds its types.
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'docs'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'README.md', 'tsconfig.json', 'src', 'examples'])
    cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
  cpSync(join(ROOT, 'docs/DESIGN.md'), join(pkg, 'docs/DESIGN.md'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: pkg, env: plainEnv(), maxBuffer: 64 << 20 });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, packed.filename);
  packedFiles = packed.files.map((f) => f.path);
  // Both installs at once (they mostly wait on the disk): the global one, and npx's own from the tarball.
  const npx = run('npx', ['--yes', '--prefer-offline', '--package', tarball, 'kafka-migrate', '--help'], { cwd: dir, env: plainEnv(), maxBuffer: 16 << 20 });
  npxHelp = npx.then((r) => r.stdout);
  npxHelp.catch(() => undefined); // reported by its test
  await run('npm', ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    env: plainEnv(),
    maxBuffer: 64 << 20,
  });
  await npx.catch(() => undefined);
});

test('the tarball holds the compiled commands and the docs, not the sources, tests, bench or demo', () => {
  expect(packedFiles).toEqual(
    expect.arrayContaining(['package.json', 'README.md', 'dist/cli/main.js', 'dist/worker/main.js', 'dist/workflows/index.js', 'examples/demo.yaml']),
  );
  expect(packedFiles.filter((f) => /^(src|test|scripts)\//.test(f) || /\.ts$/.test(f) || /^dist\/(bench|demo)\//.test(f))).toEqual([]);
  expect(readFileSync(join(prefix, 'lib/node_modules/kafka-migrate/dist/cli/main.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  expect(readFileSync(join(prefix, 'lib/node_modules/kafka-migrate/dist/worker/main.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
});

test('the installed kafka-migrate and kafka-migrate-worker commands run (--help)', async () => {
  const cli = await run(bin('kafka-migrate'), ['--help'], { cwd: dir, env: plainEnv() });
  expect(cli.stdout).toMatch(/^Usage: kafka-migrate \[options\] \[command\]/);
  for (const command of ['start', 'status', 'preflight', 'inventory', 'report']) expect(cli.stdout).toContain(`  ${command}`);
  const worker = await run(bin('kafka-migrate-worker'), ['--help'], { cwd: dir, env: plainEnv() });
  expect(worker.stdout).toContain('--secrets-dir <dir>');
  expect(worker.stdout).toContain('--reports-dir <dir>');
});

test('npx --package <tarball> kafka-migrate runs the packed command', async () => {
  expect(await npxHelp).toMatch(/^Usage: kafka-migrate \[options\] \[command\]/);
});

test('a read-only preflight from the installed CLI runs on the installed worker, which alone has the secret', async () => {
  const secrets = join(dir, 'worker-secrets');
  mkdirSync(secrets);
  writeFileSync(join(secrets, 'migrator.password'), readFileSync(MIGRATOR_PASSWORD_FILE));
  const operator = join(dir, 'operator');
  mkdirSync(operator);
  const name = `inst-${uniqueSuffix()}`;
  writeFileSync(
    join(operator, 'spec.yaml'),
    [
      `name: ${name}`,
      'source:',
      `  bootstrapServers: ["${SOURCE_SASL_BOOTSTRAP}"]`,
      '  securityProtocol: SASL_PLAINTEXT',
      '  sasl: { mechanism: PLAIN, username: migrator, password: { file: migrator.password } }',
      'target:',
      `  bootstrapServers: ["${TARGET_BOOTSTRAP}"]`,
      'scope:',
      `  topics: ["${name}\\\\..*"]`,
      'thresholds: { capacitySampleSeconds: 1 }',
    ].join('\n'),
  );
  expect(existsSync(join(operator, 'migrator.password'))).toBe(false);
  const taskQueue = `km-install-${uniqueSuffix()}`;
  const worker = new WorkerProcess({
    taskQueue,
    logFile: join(dir, 'worker.log'),
    main: join(prefix, 'lib/node_modules/kafka-migrate/dist/worker/main.js'),
    cwd: dir,
    env: { KM_SECRETS_DIR: secrets, KM_REPORTS_DIR: join(dir, 'worker-reports') },
    startTimeoutMs: 180_000,
  });
  await worker.start();
  try {
    const { stdout } = await run(bin('kafka-migrate'), ['--task-queue', taskQueue, '--timeout', '60', 'preflight', '-f', 'spec.yaml'], {
      cwd: operator,
      env: plainEnv(),
    });
    expect(stdout).toMatch(new RegExp(`^# Preflight of migration ${name}: (PASS|WARN)`, 'm'));
    // The worker resolved the relative secret in its own secrets directory: the source accepted the login.
    expect(stdout).toMatch(/^## (PASS|WARN) — .*\(`security`\)$/m);
    expect(stdout).not.toContain('cannot read file');
    expect(stdout.trim().split('\n').pop()).toMatch(/^preflight (pass|warn)$/);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${(e as { stderr?: string }).stderr ?? ''}\nworker log:\n${worker.logTail()}`);
  } finally {
    await worker.stop();
  }
});
