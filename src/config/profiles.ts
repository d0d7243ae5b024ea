/**
 * Target profiles: the constraints of the cluster a migration writes to. `automq` follows AutoMQ's migration
 * prerequisites; `kafka` is any Apache Kafka-compatible cluster. The spec may override each field.
 * Workflow-safe (pure data and functions).
 */
import type { MigrationSpec } from './spec';

export type SecurityProtocol = 'PLAINTEXT' | 'SASL_PLAINTEXT' | 'SSL' | 'SASL_SSL';

export interface TargetProfile {
  name: 'automq' | 'kafka';
  /** Kafka server/client versions the target supports (inclusive, "major.minor[.patch]"). */
  supportedVersions: { min: string; max: string };
  /** Security protocols the target accepts from clients. */
  securityProtocols: SecurityProtocol[];
  /** Source protocols the migration can read from. */
  sourceSecurityProtocols: SecurityProtocol[];
  supportsAcls: boolean;
  managedConnect: boolean;
  managedSchemaRegistry: boolean;
  /** Topic config keys the target does not accept: dropped at creation and reported. */
  unsupportedTopicConfigs: string[];
}

export const PROFILES: Record<TargetProfile['name'], TargetProfile> = {
  automq: {
    name: 'automq',
    supportedVersions: { min: '0.9', max: '3.4' },
    securityProtocols: ['PLAINTEXT'],
    // The source is read by kafka-migrate's own clients, which speak every protocol (TLS: src/kafka/tlsOptions.ts).
    sourceSecurityProtocols: ['PLAINTEXT', 'SASL_PLAINTEXT', 'SSL', 'SASL_SSL'],
    supportsAcls: false,
    managedConnect: false,
    managedSchemaRegistry: false,
    // Storage lives in object storage: replica throttles, tiered-storage and legacy format keys do not apply.
    unsupportedTopicConfigs: [
      'leader.replication.throttled.replicas',
      'follower.replication.throttled.replicas',
      'remote.storage.enable',
      'local.retention.ms',
      'local.retention.bytes',
      'message.format.version',
      'message.downconversion.enable',
    ],
  },
  kafka: {
    name: 'kafka',
    supportedVersions: { min: '0.9', max: '4.1' },
    securityProtocols: ['PLAINTEXT', 'SASL_PLAINTEXT', 'SSL', 'SASL_SSL'],
    sourceSecurityProtocols: ['PLAINTEXT', 'SASL_PLAINTEXT', 'SSL', 'SASL_SSL'],
    supportsAcls: true,
    managedConnect: false,
    managedSchemaRegistry: false,
    unsupportedTopicConfigs: [],
  },
};

/** The profile named by the spec with the spec's overrides applied. */
export function effectiveProfile(target: MigrationSpec['target']): TargetProfile {
  const base = PROFILES[target.profile];
  const o = target.profileOverrides;
  return {
    ...base,
    supportedVersions: o.supportedVersions ?? base.supportedVersions,
    securityProtocols: o.securityProtocols ?? base.securityProtocols,
    supportsAcls: o.supportsAcls ?? base.supportsAcls,
    managedConnect: o.managedConnect ?? base.managedConnect,
    managedSchemaRegistry: o.managedSchemaRegistry ?? base.managedSchemaRegistry,
    unsupportedTopicConfigs: o.unsupportedTopicConfigs ?? base.unsupportedTopicConfigs,
  };
}

/** Compares "a.b[.c]" versions numerically: <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
