/**
 * Where the benchmark runs and on what: the local stack's endpoints (scripts/stack.sh defaults, overridable
 * by the same environment variables), the Kafka jars, and the data set of each size.
 */
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { parseSpec, type MigrationSpec, type MigrationSpecInput } from '../config/spec';

export const ROOT = resolve(__dirname, '../..');
export const STACK_DIR = resolve(ROOT, '.stack');

export const endpoints = {
  /** The source as the tool reads it: SASL_PLAINTEXT. */
  sourceSasl: process.env.SOURCE_BOOTSTRAP ?? `127.0.0.1:${process.env.SOURCE_SASL_PORT ?? 19093}`,
  /** The source's super-user PLAINTEXT listener: set-up only (data generation, topic creation). */
  sourceAdmin: process.env.SOURCE_ADMIN_BOOTSTRAP ?? `127.0.0.1:${process.env.SOURCE_PLAINTEXT_PORT ?? 19092}`,
  target: process.env.TARGET_BOOTSTRAP ?? `127.0.0.1:${process.env.TARGET_PORT ?? 29092}`,
  migratorPasswordFile: process.env.SOURCE_SASL_PASSWORD_FILE ?? resolve(STACK_DIR, 'secrets/migrator.password'),
  adminPasswordFile: resolve(STACK_DIR, 'secrets/admin.password'),
};

/** Jar directories: the source's tools (ProducerPerformance) and MirrorMaker 2 from the newer release. */
export const jars = {
  tools: resolve(STACK_DIR, 'kafka-3.4.1/libs'),
  mirrorMaker: resolve(STACK_DIR, 'kafka-3.9.2/libs'),
  log4j: resolve(STACK_DIR, 'conf/tools-log4j.properties'),
};

export type BenchSize = 'small' | 'full';

export interface Variant {
  /** Label in tables: "1 KB" or "100 B". */
  label: string;
  valueBytes: number;
  /** Records per topic. */
  recordsPerTopic: number;
}

export interface DataSetShape {
  topics: number;
  partitionsPerTopic: number;
  variants: Variant[];
}

/** The same shape for everyone: 4 topics x 8 partitions; full is >= 2 GB of 1 KB values (issue 6). */
export function dataSetShape(size: BenchSize): DataSetShape {
  const full = size === 'full';
  return {
    topics: 4,
    partitionsPerTopic: 8,
    variants: [
      // 4 x 525,000 x 1,024 B = 2.15 GB (full); 4 x 36,000 x 1,024 B = 147 MB (small)
      { label: '1 KB', valueBytes: 1024, recordsPerTopic: full ? 525_000 : 36_000 },
      // 4 x 1,500,000 x 100 B = 600 MB, 6 M records (full); 4 x 100,000 x 100 B = 40 MB (small)
      { label: '100 B', valueBytes: 100, recordsPerTopic: full ? 1_500_000 : 100_000 },
    ],
  };
}

/** A spec for the local stack: the source read as `migrator` over SASL_PLAINTEXT, exactly as the product does. */
export function benchSpec(overrides: Partial<MigrationSpecInput> & { name: string }): MigrationSpec {
  return parseSpec({
    source: {
      bootstrapServers: [endpoints.sourceSasl],
      securityProtocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'PLAIN', username: 'migrator', password: { file: endpoints.migratorPasswordFile } },
    },
    target: { bootstrapServers: [endpoints.target], securityProtocol: 'PLAINTEXT' },
    ...overrides,
  });
}

/** Super-user client of the source (PLAINTEXT listener): set-up and clean-up only. */
export function sourceSetupKafka(): Kafka {
  return new Kafka({ clientId: 'km-bench-setup', brokers: [endpoints.sourceAdmin], logLevel: logLevel.NOTHING });
}

export function targetKafka(): Kafka {
  return new Kafka({ clientId: 'km-bench', brokers: [endpoints.target], logLevel: logLevel.NOTHING });
}

/** A short unique id for this run's topic, group and workflow names. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}
