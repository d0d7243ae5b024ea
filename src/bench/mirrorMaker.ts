/**
 * MirrorMaker 2 (dedicated mode, org.apache.kafka.connect.mirror.MirrorMaker, Kafka 3.9.2) copying one
 * variant src -> tgt with the identity replication policy, tuned the way an operator tunes it for a bulk
 * copy: topic-config/ACL sync, heartbeats, checkpoints and offset syncs off; 4 tasks; large producer
 * batches with 5 idempotent requests in flight (Connect's default is 1) and 4 MB partition fetches. The
 * source is read as `admin` over SASL; the password reaches MM2 through a DirectoryConfigProvider
 * reference, never through the properties file or the command line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, basename, join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { endpoints, jars } from './settings';
import { startJava, stopJava } from './javaTools';
import { watchCopy } from './copyWatch';
import { deleteGroups, deleteTopics, withAdminOf } from './topics';
import type { VariantData } from './dataSet';
import { throughputOf, type ThroughputResult } from './throughput';

export const MM2_TASKS = 4;

export function mirrorMakerProperties(topics: string[]): string {
  const escape = (t: string) => t.replace(/[.]/g, '\\\\.');
  const props: Record<string, string | number | boolean> = {
    clusters: 'src, tgt',
    'src.bootstrap.servers': endpoints.sourceSasl,
    'src.security.protocol': 'SASL_PLAINTEXT',
    'src.sasl.mechanism': 'PLAIN',
    'src.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="\${dir:${dirname(endpoints.adminPasswordFile)}:${basename(endpoints.adminPasswordFile)}}";`,
    'tgt.bootstrap.servers': endpoints.target,
    'config.providers': 'dir',
    'config.providers.dir.class': 'org.apache.kafka.common.config.provider.DirectoryConfigProvider',
    'src->tgt.enabled': true,
    'tgt->src.enabled': false,
    'src->tgt.topics': topics.map(escape).join(','),
    'replication.policy.class': 'org.apache.kafka.connect.mirror.IdentityReplicationPolicy',
    'sync.topic.configs.enabled': false,
    'sync.topic.acls.enabled': false,
    'sync.group.offsets.enabled': false,
    'emit.heartbeats.enabled': false,
    'emit.checkpoints.enabled': false,
    'emit.offset-syncs.enabled': false,
    'tasks.max': MM2_TASKS,
    'replication.factor': 1,
    'heartbeats.topic.replication.factor': 1,
    'checkpoints.topic.replication.factor': 1,
    'offset.storage.replication.factor': 1,
    'status.storage.replication.factor': 1,
    'config.storage.replication.factor': 1,
    'tgt.producer.acks': 'all',
    'tgt.producer.enable.idempotence': true,
    'tgt.producer.max.in.flight.requests.per.connection': 5,
    'tgt.producer.batch.size': 256 * 1024,
    'tgt.producer.linger.ms': 10,
    'tgt.producer.buffer.memory': 64 * 1024 * 1024,
    'tgt.producer.compression.type': 'none',
    'src.consumer.max.partition.fetch.bytes': 4 * 1024 * 1024,
    'src.consumer.fetch.max.bytes': 64 * 1024 * 1024,
    'src.consumer.max.poll.records': 5000,
    'src.consumer.receive.buffer.bytes': 1024 * 1024,
  };
  return (
    Object.entries(props)
      .map(([k, v]) => `${k.replace(/([:=])/g, '\\$1')} = ${v}`)
      .join('\n') + '\n'
  );
}

/** Peak resident memory of a process (VmHWM), MB (10^6 bytes); undefined when /proc is not there. */
export function peakRssOfPid(pid: number | undefined): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (Number(m[1]) * 1024) / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

export async function measureMirrorMaker(target: Kafka, data: VariantData, say: (l: string) => void): Promise<ThroughputResult> {
  const dir = mkdtempSync(join(tmpdir(), 'km-bench-mm2-'));
  const propsFile = join(dir, 'mm2.properties');
  writeFileSync(propsFile, mirrorMakerProperties(data.topics));
  const before = await withAdminOf(target, async (a) => ({
    topics: new Set(await a.listTopics()),
    groups: new Set((await a.listGroups()).groups.map((g) => g.groupId)),
  }));
  const startedAt = Date.now();
  const mm2 = startJava(jars.mirrorMaker, 'org.apache.kafka.connect.mirror.MirrorMaker', [propsFile, '--clusters', 'tgt'], '1g');
  let log = '';
  mm2.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20000)));
  mm2.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20000)));
  let peak: number | undefined;
  try {
    const timing = await withAdminOf(target, (admin) =>
      watchCopy({
        admin,
        expected: data.records,
        timeoutMs: 30 * 60_000,
        what: 'MirrorMaker 2',
        failure: () =>
          mm2.exitCode !== null ? new Error(`MirrorMaker 2 exited with ${mm2.exitCode}: ${log.trim().split('\n').slice(-8).join('\n')}`) : undefined,
      }),
    );
    peak = peakRssOfPid(mm2.pid);
    return throughputOf('mirrormaker2', data, timing, { wallSecondsIncludingStartup: Math.round((Date.now() - startedAt) / 100) / 10, tasks: MM2_TASKS }, peak);
  } finally {
    await stopJava(mm2);
    rmSync(dir, { recursive: true, force: true });
    await withAdminOf(target, (a) => removeMirrorMakerState(a, before, data.topics, say));
  }
}

/** MM2's own topics (configs, offsets, status; heartbeats) and its Connect group, then the copies. */
async function removeMirrorMakerState(
  admin: Admin,
  before: { topics: Set<string>; groups: Set<string> },
  copies: string[],
  say: (l: string) => void,
): Promise<void> {
  const created = (await admin.listTopics()).filter((t) => !before.topics.has(t));
  const internal = created.filter((t) => /^mm2-|\.internal$|^heartbeats$/.test(t));
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => !before.groups.has(g) && /mm2/.test(g));
  say(`  removing MirrorMaker 2's state on the target: topics ${internal.join(', ') || '(none)'}; groups ${groups.join(', ') || '(none)'}`);
  await deleteGroups(admin, groups).catch((e) => say(`  could not delete MM2 groups ${groups.join(', ')}: ${(e as Error).message}`));
  await deleteTopics(admin, [...internal, ...copies]);
}
