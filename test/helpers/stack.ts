/** Endpoints of the real stack the integration tests run against (scripts/stack.sh defaults or env). */
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { parseSpec, type MigrationSpec, type MigrationSpecInput } from '../../src/config/spec';

export const STACK_DIR = resolve(__dirname, '../../.stack');
export const SOURCE_SASL_BOOTSTRAP = process.env.SOURCE_BOOTSTRAP ?? `127.0.0.1:${process.env.SOURCE_SASL_PORT ?? 19093}`;
/** The source's PLAINTEXT listener, a super-user: test set-up only. */
export const SOURCE_ADMIN_BOOTSTRAP = process.env.SOURCE_ADMIN_BOOTSTRAP ?? `127.0.0.1:${process.env.SOURCE_PLAINTEXT_PORT ?? 19092}`;
export const TARGET_BOOTSTRAP = process.env.TARGET_BOOTSTRAP ?? `127.0.0.1:${process.env.TARGET_PORT ?? 29092}`;
export const MIGRATOR_PASSWORD_FILE = process.env.SOURCE_SASL_PASSWORD_FILE ?? resolve(STACK_DIR, 'secrets/migrator.password');

/** A spec for the local stack: the source over SASL_PLAINTEXT as the migrator user. */
export function stackSpec(overrides: Partial<MigrationSpecInput> & { name: string }): MigrationSpec {
  return parseSpec({
    source: {
      bootstrapServers: [SOURCE_SASL_BOOTSTRAP],
      securityProtocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'PLAIN', username: 'migrator', password: { file: MIGRATOR_PASSWORD_FILE } },
    },
    target: { bootstrapServers: [TARGET_BOOTSTRAP], securityProtocol: 'PLAINTEXT' },
    ...overrides,
  });
}

/** Super-user client of the source (PLAINTEXT listener) for setting up test data. */
export function sourceAdminKafka(): Kafka {
  return new Kafka({ clientId: 'km-test-setup', brokers: [SOURCE_ADMIN_BOOTSTRAP], logLevel: logLevel.NOTHING });
}

/** The topics on the target, as an operator would list them. */
export async function targetTopicNames(): Promise<string[]> {
  const admin = targetKafka().admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

export function targetKafka(): Kafka {
  return new Kafka({ clientId: 'km-test', brokers: [TARGET_BOOTSTRAP], logLevel: logLevel.NOTHING });
}

/** A unique lower-case suffix so that tests never share topics, groups or workflow ids. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
