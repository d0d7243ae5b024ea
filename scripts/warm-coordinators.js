// Waits until both clusters' group and transaction coordinators answer (on a freshly formatted broker they
// report COORDINATOR_LOAD_IN_PROGRESS for a while): an idempotent produce and a committed consumer group on a
// cluster-internal topic (`__km_warmup`, never in a migration's scope). Called by scripts/test.sh after stack up.
const { Kafka, logLevel } = require('kafkajs');

const clusters = [
  process.env.SOURCE_ADMIN_BOOTSTRAP || `127.0.0.1:${process.env.SOURCE_PLAINTEXT_PORT || 19092}`,
  process.env.TARGET_BOOTSTRAP || `127.0.0.1:${process.env.TARGET_PORT || 29092}`,
];

async function warm(broker) {
  const kafka = new Kafka({
    clientId: 'km-warmup',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    retry: { retries: 15, initialRetryTime: 300, maxRetryTime: 3000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: '__km_warmup', numPartitions: 1 }], waitForLeaders: true }).catch(() => undefined);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: '__km_warmup', messages: [{ value: 'warm' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'km-warmup' });
  await consumer.connect();
  await consumer.subscribe({ topics: ['__km_warmup'], fromBeginning: true });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no coordinator answered on ${broker} within 90 s`)), 90000);
    consumer
      .run({
        eachMessage: async () => {
          clearTimeout(timer);
          resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

Promise.all(clusters.map(warm)).then(
  () => process.exit(0),
  (e) => {
    console.error(`warm-coordinators: ${e.message}`);
    process.exit(1);
  },
);
