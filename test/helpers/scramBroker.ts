/**
 * A Kafka 3.9 broker with a SASL_SSL listener for SCRAM-SHA-256/512, started by a test from the stack's jars.
 * The stack's source cannot carry SCRAM users: Kafka 3.4 in KRaft mode has no SCRAM credentials (KIP-900
 * came in 3.5). SCRAM users are written at format time (--add-scram); the server certificate is the stack
 * source's (.stack/tls, signed by the stack CA, names 127.0.0.1).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect, createServer, type AddressInfo } from 'node:net';
import { STACK_DIR } from './stack';

export const SCRAM_USER = 'scram-migrator';
export const SCRAM_PASSWORD = 'scram-secret-77';

export interface ScramBroker {
  /** SASL_SSL listener (SCRAM-SHA-256 and SCRAM-SHA-512). */
  saslSslBootstrap: string;
  /** PLAINTEXT listener for test set-up. */
  plaintextBootstrap: string;
  stop(): Promise<void>;
}

/** Free ports chosen by the OS (fixed ones collided with other brokers started on this machine). */
async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => res(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

export async function startScramBroker(): Promise<ScramBroker> {
  const libs = resolve(STACK_DIR, 'kafka-3.9.2/libs');
  const tls = resolve(STACK_DIR, 'tls');
  if (!existsSync(join(libs, '.complete'))) throw new Error(`Kafka 3.9.2 jars missing at ${libs}: run "bash scripts/stack.sh up" first`);
  if (!existsSync(join(tls, 'source-broker.p12'))) throw new Error(`stack TLS material missing at ${tls}: run "bash scripts/stack.sh up" first`);
  const PORTS = { saslSsl: await freePort(), plaintext: await freePort(), controller: await freePort() };
  for (const port of Object.values(PORTS)) if (await portOpen(port)) throw new Error(`port ${port} for the SCRAM test broker is taken`);
  mkdirSync(resolve(STACK_DIR, 'scram-broker'), { recursive: true });
  const dir = mkdtempSync(resolve(STACK_DIR, 'scram-broker/run-'));
  const storePassword = readFileSync(resolve(STACK_DIR, 'secrets/tls-store.password'), 'utf8').trim();
  const config = join(dir, 'server.properties');
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${PORTS.controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${PORTS.plaintext},SASL_SSL://127.0.0.1:${PORTS.saslSsl},CONTROLLER://127.0.0.1:${PORTS.controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${PORTS.plaintext},SASL_SSL://127.0.0.1:${PORTS.saslSsl}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.location=${join(tls, 'source-broker.p12')}`,
      `ssl.keystore.password=${storePassword}`,
      `ssl.key.password=${storePassword}`,
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
    ].join('\n'),
  );
  const cp = `${libs}/*`;
  const log4j = `-Dlog4j.configuration=file:${resolve(STACK_DIR, 'conf/tools-log4j.properties')}`;
  execFileSync(
    'java',
    [
      '-cp',
      cp,
      log4j,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      'km-scram-test-cluster-0',
      '-c',
      config,
      '--add-scram',
      `SCRAM-SHA-256=[name=${SCRAM_USER},password=${SCRAM_PASSWORD}]`,
      '--add-scram',
      `SCRAM-SHA-512=[name=${SCRAM_USER},password=${SCRAM_PASSWORD}]`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const logFile = join(dir, 'broker.log');
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    'java',
    ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', log4j.replace('tools-log4j', 'broker-log4j'), '-cp', cp, 'kafka.Kafka', config],
    { stdio: ['ignore', out, out] },
  );
  const deadline = Date.now() + 90_000;
  while (!(existsSync(logFile) && /Kafka Server started/.test(readFileSync(logFile, 'utf8')))) {
    if (child.exitCode !== null) throw new Error(`SCRAM test broker exited (${child.exitCode}); see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`SCRAM test broker did not start within 90 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    saslSslBootstrap: `127.0.0.1:${PORTS.saslSsl}`,
    plaintextBootstrap: `127.0.0.1:${PORTS.plaintext}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
