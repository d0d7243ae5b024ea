/**
 * Ecosystem components that live on the source's topics and groups: Kafka Connect, Schema Registry,
 * Kafka Streams applications and MirrorMaker 2. None of them moves by itself: each keeps running, is
 * repointed at the target and restarted, and its internal topics must move with it (same names).
 */
import { effectiveProfile } from '../../config/profiles';
import { scopeMatcher } from '../../plan/scope';
import type { CheckResult } from '../../types/preflight';
import { onCluster, result, type CheckInput } from './common';
import { listGroups } from './groups';

const ID = 'ecosystem';
const TITLE = 'Ecosystem components (Connect, Schema Registry, Streams, MirrorMaker)';

export type ComponentKind = 'kafka-connect' | 'schema-registry' | 'kafka-streams' | 'mirrormaker2';

export interface EcosystemComponent {
  kind: ComponentKind;
  /** Connect topic prefix, Streams application.id, Schema Registry topic, or "mirrormaker2". */
  name: string;
  topics: { name: string; inScope: boolean }[];
  groups: { groupId: string; protocolType: string; inScope: boolean }[];
  /** Whether the migration touches it (one of its topics or groups is in scope). */
  affected: boolean;
  guidance: string;
}

/** Connect worker storage topics: connect-configs, <prefix>-connect-offsets, connect-cluster-status, ... */
const CONNECT_TOPIC = /^(.*?(?:^|[-_.])connect(?:[-_.][A-Za-z0-9_-]*?)?)[-_.](configs?|offsets?|status(?:es)?)$/i;
const SCHEMAS_TOPIC = /(^_schemas|_schemas)$|^_schemas[-_.]/;
const STREAMS_TOPIC = /-(changelog|repartition)$/;
const MM2_TOPIC = /^mm2-(offset-syncs|configs|offsets|status)\..+\.internal$|\.checkpoints\.internal$|^heartbeats$|\.heartbeats$/;

function guidance(kind: ComponentKind, name: string, managed: { connect: boolean; schemaRegistry: boolean }, profile: string): string {
  switch (kind) {
    case 'kafka-connect':
      return (
        `Kafka Connect "${name}": ${managed.connect ? '' : `the ${profile} target has no managed Connect, so `}keep your Connect workers. ` +
        "Migrate their config/offset/status topics with the connectors' topics (same names, compacted); stop the workers before cutover, " +
        'set bootstrap.servers (and any producer./consumer./admin. overrides) to the target, and restart them: connectors resume from their stored offsets.'
      );
    case 'schema-registry':
      return (
        `Schema Registry on "${name}": ${managed.schemaRegistry ? '' : `the ${profile} target has no managed Schema Registry, so `}keep your Schema Registry service. ` +
        `Migrate "${name}" (same name, so schema ids stay the same), set kafkastore.bootstrap.servers to the target and restart it; clients keep the same registry URL.`
      );
    case 'kafka-streams':
      return (
        `Kafka Streams application "${name}": keep the application. Migrate its changelog and repartition topics in the same batch as its group ` +
        `(application.id "${name}"), stop every instance before cutover, set bootstrap.servers to the target and restart them: state is restored from the migrated changelogs.`
      );
    case 'mirrormaker2':
      return (
        'MirrorMaker 2: keep the MirrorMaker service. Its offset-sync, checkpoint and heartbeat topics move with the migration; ' +
        'set the bootstrap.servers of the cluster alias that names this cluster to the target and restart MirrorMaker.'
      );
  }
}

/** Streams application.id of an internal topic: the longest group id it starts with, else the part before the generated name. */
function streamsAppId(topic: string, groupIds: string[]): string | undefined {
  const owner = groupIds.filter((g) => topic.startsWith(`${g}-`)).sort((a, b) => b.length - a.length)[0];
  if (owner) return owner;
  const generated = topic.match(/^(.+?)-(KSTREAM|KTABLE)-/);
  return generated?.[1];
}

/** Activity: ecosystem components found on the source, with what to do about each. */
export async function checkEcosystem(input: CheckInput): Promise<CheckResult> {
  const { spec } = input;
  const profile = effectiveProfile(spec.target);
  const scope = scopeMatcher(spec);
  return onCluster(spec, 'source', 'checkEcosystem', async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
    const groups = await listGroups(admin, spec.source);
    const groupIds = groups.map((g) => g.groupId);
    const components = new Map<string, EcosystemComponent>();
    const component = (kind: ComponentKind, name: string) => {
      const k = `${kind}:${name}`;
      let c = components.get(k);
      if (!c) {
        c = { kind, name, topics: [], groups: [], affected: false, guidance: '' };
        components.set(k, c);
      }
      return c;
    };
    const addTopic = (c: EcosystemComponent, t: string) => c.topics.push({ name: t, inScope: scope.topic(t) });
    const addGroup = (c: EcosystemComponent, g: { groupId: string; protocolType: string }) => {
      if (!c.groups.some((x) => x.groupId === g.groupId)) c.groups.push({ ...g, inScope: scope.group(g.groupId) });
    };

    for (const t of topics) {
      const connect = t.match(CONNECT_TOPIC);
      if (MM2_TOPIC.test(t)) addTopic(component('mirrormaker2', 'mirrormaker2'), t);
      else if (connect) addTopic(component('kafka-connect', connect[1]), t);
      else if (SCHEMAS_TOPIC.test(t)) addTopic(component('schema-registry', t), t);
      else if (STREAMS_TOPIC.test(t)) {
        const app = streamsAppId(t, groupIds) ?? '(unknown application.id)';
        const c = component('kafka-streams', app);
        addTopic(c, t);
        const g = groups.find((x) => x.groupId === app);
        if (g) addGroup(c, g);
      }
    }
    for (const g of groups) {
      // Connect workers coordinate through groups of protocol type "connect"; sink connectors consume as connect-<name>.
      if (g.protocolType === 'connect') addGroup(component('kafka-connect', g.groupId), g);
      else if (g.groupId.startsWith('connect-') && g.protocolType === 'consumer') addGroup(component('kafka-connect', 'sink connectors'), g);
    }

    const found = [...components.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    for (const c of found) {
      c.affected = c.topics.some((t) => t.inScope) || c.groups.some((g) => g.inScope);
      c.guidance = guidance(c.kind, c.name, { connect: profile.managedConnect, schemaRegistry: profile.managedSchemaRegistry }, profile.name);
    }
    const affected = found.filter((c) => c.affected);
    const partial = affected.filter((c) => c.topics.some((t) => !t.inScope));
    const evidence = {
      affected,
      notAffected: found.filter((c) => !c.affected).map((c) => ({ kind: c.kind, name: c.name, topics: c.topics.map((t) => t.name) })),
    };
    if (affected.length === 0) {
      return result(
        ID,
        TITLE,
        'pass',
        found.length
          ? `${found.length} ecosystem component(s) found, none uses in-scope topics or groups`
          : 'no Connect, Schema Registry, Streams or MirrorMaker topics or groups found',
        evidence,
      );
    }
    const names = affected.map((c) => `${c.kind} "${c.name}"`);
    const partialText = partial.length
      ? `; out of scope but part of an affected component: ${partial.flatMap((c) => c.topics.filter((t) => !t.inScope).map((t) => t.name)).join(', ')} (the service would restart on the target without them)`
      : '';
    return result(
      ID,
      TITLE,
      'warn',
      `${affected.length} component(s) use in-scope topics or groups: ${names.join(', ')}${partialText}`,
      evidence,
      affected.map((c) => c.guidance).join(' '),
    );
  });
}
