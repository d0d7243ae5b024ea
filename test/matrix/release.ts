/**
 * Clusters of other Kafka releases for the compatibility matrix (scripts/stack/release.sh), and that release's own
 * Java client (test/matrix/MatrixClient.java) to write and check data with.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { STACK_DIR } from '../helpers/stack';

const run = promisify(execFile);
const RELEASE_SH = resolve(__dirname, '../../scripts/stack/release.sh');
const CLIENT = resolve(__dirname, 'MatrixClient.java');

export interface ReleaseCluster {
  name: string;
  version: string;
  brokers: number;
  plaintextBootstrap: string;
  /** Empty: the release has no SASL listener (0.9: GSSAPI only). */
  saslBootstrap: string;
  mechanisms: string[];
  transactions: boolean;
  libs: string;
  secrets: string;
}

async function sh(args: string[], timeoutMs = 10 * 60_000): Promise<string> {
  try {
    const { stdout } = await run('bash', [RELEASE_SH, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`scripts/stack/release.sh ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}`);
  }
}

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && /^RELEASE_/.test(line)) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

function toCluster(env: Record<string, string>): ReleaseCluster {
  return {
    name: env.RELEASE_NAME,
    version: env.RELEASE_VERSION,
    brokers: Number(env.RELEASE_BROKERS),
    plaintextBootstrap: env.RELEASE_PLAINTEXT_BOOTSTRAP,
    saslBootstrap: env.RELEASE_SASL_BOOTSTRAP,
    mechanisms: env.RELEASE_SASL_MECHANISMS ? env.RELEASE_SASL_MECHANISMS.split(',') : [],
    transactions: env.RELEASE_TRANSACTIONS === '1',
    libs: env.RELEASE_LIBS,
    secrets: env.RELEASE_SECRETS,
  };
}

export async function releaseUp(
  name: string,
  version: string,
  opts: { brokers?: number; portBase?: number; plaintextOnly?: boolean } = {},
): Promise<ReleaseCluster> {
  const args = ['up', name, version];
  if (opts.brokers) args.push('--brokers', String(opts.brokers));
  if (opts.portBase) args.push('--port-base', String(opts.portBase));
  if (opts.plaintextOnly) args.push('--plaintext-only');
  return toCluster(parseEnv(await sh(args, 20 * 60_000))); // a cold start fetches jars; a loaded machine starts JVMs slowly
}

export const releaseDown = (name: string): Promise<string> => sh(['down', name]);
export const releaseWipe = (name: string): Promise<string> => sh(['wipe', name]);
export const stopBroker = (name: string, index: number, signal: 'TERM' | 'KILL'): Promise<string> => sh(['stop-broker', name, String(index), signal]);
export const startBroker = (name: string, index: number): Promise<string> => sh(['start-broker', name, String(index)]);
/** The release's own kafka-topics / kafka-configs / kafka-reassign-partitions / ... */
export const releaseTool = (kind: 'topics' | 'configs' | 'acls' | 'reassign' | 'groups', name: string, ...args: string[]): Promise<string> =>
  sh([kind, name, ...args]);
export const releaseJava = (name: string, ...args: string[]): Promise<string> => sh(['java', name, ...args]);

/**
 * MatrixClient compiled once against a release's jars (javac), cached in .stack/cache/matrix-client/<key> where the key
 * covers the source, the libs directory and its jar names: the java source launcher would compile it on every call.
 */
async function compiledClient(libs: string): Promise<string> {
  const key = createHash('sha256')
    .update(readFileSync(CLIENT))
    .update(`\0${libs}\0${readdirSync(libs).sort().join(',')}`)
    .digest('hex')
    .slice(0, 16);
  const root = join(STACK_DIR, 'cache/matrix-client');
  const dir = join(root, key);
  if (existsSync(join(dir, 'MatrixClient.class'))) return dir;
  mkdirSync(root, { recursive: true });
  const tmp = mkdtempSync(join(root, 'tmp-'));
  try {
    await run('javac', ['-nowarn', '-Xlint:none', '-cp', `${libs}/*`, '-d', tmp, CLIENT], { timeout: 5 * 60_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const err = e as Error & { stderr?: string };
    throw new Error(`javac MatrixClient.java against ${libs} failed: ${err.message}\n${(err.stderr ?? '').slice(-4000)}`);
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // compiled meanwhile by a parallel run: same key, same classes
  }
  return dir;
}

/** Runs MatrixClient (compiled once per release) with the given release's jars (its own producer and consumer). */
export async function matrixClient(libs: string, ...args: string[]): Promise<string> {
  const log4j = /release-jars\/4\./.test(libs)
    ? `-Dlog4j2.configurationFile=${STACK_DIR}/release/conf/tools-log4j2.properties`
    : `-Dlog4j.configuration=file:${STACK_DIR}/release/conf/tools-log4j.properties`;
  const classes = await compiledClient(libs);
  try {
    // A short-lived client: C1 only and the serial collector spend less CPU on start-up (same results).
    const { stdout } = await run('java', ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', log4j, '-cp', `${classes}:${libs}/*`, 'MatrixClient', ...args], {
      timeout: 10 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`MatrixClient ${args[0]} (${libs}) failed: ${err.message}\n${(err.stderr ?? '').slice(-4000)}`);
  }
}

export interface PartitionDigest {
  topic: string;
  partition: number;
  count: number;
  sha: string;
  /** Records before the group's committed offset; -1 without a group or commit. */
  prefix: number;
  committed: number;
}

export interface DigestRequest {
  topic: string;
  readCommitted: boolean;
  timestamps: boolean;
  group?: string;
}

export async function digestTopics(libs: string, bootstrap: string, requests: DigestRequest[]): Promise<PartitionDigest[]> {
  const args = requests.flatMap((r) => [r.topic, r.readCommitted ? 'read_committed' : '-', r.timestamps ? '1' : '0', r.group ?? '-']);
  const out = await matrixClient(libs, 'digest', bootstrap, ...args);
  return out
    .trim()
    .split('\n')
    .filter((l) => l)
    .map((l) => {
      const [topic, partition, count, sha, prefix, committed] = l.split(' ');
      return { topic, partition: Number(partition), count: Number(count), sha, prefix: Number(prefix), committed: Number(committed) };
    });
}

export const password = (cluster: ReleaseCluster, user: 'migrator' | 'app' | 'admin'): string => readFileSync(`${cluster.secrets}/${user}.password`, 'utf8');
