// The compatibility matrix's producer, committer and checker, run with the kafka-clients jar OF THE RELEASE under test
// (0.9.0.1 .. 4.1.1), so that data is written and read by that release's own client, never by kafka-migrate's code:
//   java -cp '<release libs>/*' test/matrix/MatrixClient.java produce BOOTSTRAP [TOPIC CODEC COUNT KEYS HEADERS TX TOMBSTONE_EVERY]...
//   java -cp ... MatrixClient.java commit BOOTSTRAP [GROUP TOPIC[,TOPIC]...]...   (commits half of each partition's end offset)
//   java -cp ... MatrixClient.java digest BOOTSTRAP [TOPIC ISOLATION TIMESTAMPS GROUP]...   (ISOLATION, GROUP: "-" for none)
// digest prints one line per partition: "topic partition count sha256 prefix committed" where sha256 covers every record's
// key, value, headers (and timestamp when TIMESTAMPS=1) in log order, and prefix counts the records before GROUP's
// committed offset (-1 when none), so that a source and a target with different offsets compare exactly.
// APIs that changed across releases (poll, seekToBeginning, committed, headers, transactions) are called by reflection
// so that one source file compiles against every release's jar.
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class MatrixClient {
  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Object call(Object target, String name, Object... args) throws Exception {
    for (Method m : target.getClass().getMethods()) {
      if (!m.getName().equals(name) || m.getParameterCount() != args.length) continue;
      Class<?>[] types = m.getParameterTypes();
      boolean fits = true;
      for (int i = 0; i < args.length; i++) fits &= args[i] == null || box(types[i]).isInstance(args[i]);
      if (fits) return m.invoke(target, args);
    }
    throw new NoSuchMethodException(target.getClass().getName() + "." + name);
  }

  static Class<?> box(Class<?> c) {
    if (c == long.class) return Long.class;
    if (c == int.class) return Integer.class;
    return c;
  }

  static boolean has(Object target, String name) {
    for (Method m : target.getClass().getMethods()) if (m.getName().equals(name)) return true;
    return false;
  }

  @SuppressWarnings("unchecked")
  static List<ConsumerRecord<byte[], byte[]>> poll(KafkaConsumer<byte[], byte[]> c) throws Exception {
    Object records;
    try {
      Class<?> duration = Class.forName("java.time.Duration");
      Object d = duration.getMethod("ofMillis", long.class).invoke(null, 500L);
      records = c.getClass().getMethod("poll", duration).invoke(c, d);
    } catch (NoSuchMethodException e) {
      records = c.getClass().getMethod("poll", long.class).invoke(c, 500L);
    }
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    for (Object r : (Iterable<Object>) records) out.add((ConsumerRecord<byte[], byte[]>) r);
    return out;
  }

  static void seek(KafkaConsumer<byte[], byte[]> c, String which, List<TopicPartition> tps) throws Exception {
    try {
      c.getClass().getMethod(which, Collection.class).invoke(c, tps);
    } catch (NoSuchMethodException e) {
      c.getClass().getMethod(which, TopicPartition[].class).invoke(c, (Object) tps.toArray(new TopicPartition[0]));
    }
  }

  static void assign(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> tps) throws Exception {
    try {
      c.getClass().getMethod("assign", Collection.class).invoke(c, tps);
    } catch (NoSuchMethodException e) {
      c.getClass().getMethod("assign", List.class).invoke(c, tps);
    }
  }

  static long committed(KafkaConsumer<byte[], byte[]> c, TopicPartition tp) throws Exception {
    Object o;
    try {
      o = c.getClass().getMethod("committed", TopicPartition.class).invoke(c, tp);
    } catch (NoSuchMethodException e) {
      Map<?, ?> m = (Map<?, ?>) c.getClass().getMethod("committed", java.util.Set.class).invoke(c, Collections.singleton(tp));
      o = m.get(tp);
    }
    return o == null ? -1 : ((OffsetAndMetadata) o).offset();
  }

  static Properties common(String bootstrap) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    return p;
  }

  static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, String group, String isolation) {
    Properties p = common(bootstrap);
    p.put("group.id", group);
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    if (isolation != null) p.put("isolation.level", isolation);
    return new KafkaConsumer<>(p);
  }

  static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c, String topic) {
    List<TopicPartition> out = new ArrayList<>();
    for (PartitionInfo p : c.partitionsFor(topic)) out.add(new TopicPartition(topic, p.partition()));
    out.sort((a, b) -> a.partition() - b.partition());
    return out;
  }

  /** End offsets (the last stable offset under read_committed) of every partition, read together. */
  static Map<TopicPartition, Long> endOffsets(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> tps) throws Exception {
    assign(c, tps);
    seek(c, "seekToEnd", tps);
    Map<TopicPartition, Long> end = new java.util.HashMap<>();
    for (TopicPartition tp : tps) end.put(tp, c.position(tp));
    return end;
  }

  public static void main(String[] a) throws Exception {
    switch (a[0]) {
      case "produce":
        for (int i = 2; i + 6 < a.length; i += 7)
          produce(a[1], a[i], a[i + 1], Integer.parseInt(a[i + 2]), Integer.parseInt(a[i + 3]), a[i + 4].equals("1"), a[i + 5].equals("1"),
              Integer.parseInt(a[i + 6]));
        break;
      case "commit":
        for (int i = 2; i + 1 < a.length; i += 2) commit(a[1], a[i], a[i + 1].split(","));
        break;
      case "digest":
        for (int i = 2; i + 3 < a.length; i += 4)
          digest(a[1], a[i], a[i + 1].equals("-") ? null : a[i + 1], a[i + 2].equals("1"), a[i + 3].equals("-") ? null : a[i + 3]);
        break;
      default:
        throw new IllegalArgumentException("expected produce, commit or digest, got " + a[0]);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static void produce(String bootstrap, String topic, String codec, int count, int keys, boolean headers, boolean tx, int tombstoneEvery)
      throws Exception {
    Properties p = common(bootstrap);
    p.put("compression.type", codec);
    p.put("acks", "all");
    p.put("linger.ms", "5");
    p.put("batch.size", "16384");
    p.put("max.in.flight.requests.per.connection", "1"); // order across retries on releases without idempotence
    p.put("retries", "10");
    if (tx) p.put("transactional.id", "matrix-" + topic);
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
    Constructor<?> withHeaders = null;
    Constructor<?> header = null;
    if (headers) {
      withHeaders = ProducerRecord.class.getConstructor(String.class, Integer.class, Long.class, Object.class, Object.class, Iterable.class);
      header = Class.forName("org.apache.kafka.common.header.internals.RecordHeader").getConstructor(String.class, byte[].class);
    }
    if (tx) call(producer, "initTransactions");
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    int txSize = 20;
    int flushEvery = Math.max(100, count / 10); // each flush waits for acks=all: bounded in number
    String pad = " lorem ipsum dolor sit amet, consectetur adipiscing elit; the same words compress in every codec.";
    for (int i = 0; i < count; i++) {
      if (tx && i % txSize == 0) call(producer, "beginTransaction");
      boolean aborted = tx && (i / txSize) % 3 == 2;
      byte[] key = utf8("key-" + (i % keys));
      byte[] value = tombstoneEvery > 0 && i % tombstoneEvery == tombstoneEvery - 1 ? null : utf8("{\"i\":" + i + ",\"topic\":\"" + topic + "\",\"aborted\":" + aborted + "}" + pad);
      ProducerRecord<byte[], byte[]> r;
      if (headers) {
        List<Object> hs = new ArrayList<>();
        hs.add(header.newInstance("seq", utf8(String.valueOf(i))));
        hs.add(header.newInstance("dup", utf8("a")));
        hs.add(header.newInstance("dup", utf8("b")));
        hs.add(header.newInstance("empty", null));
        r = (ProducerRecord<byte[], byte[]>) withHeaders.newInstance(topic, null, null, key, value, hs);
      } else {
        r = new ProducerRecord<>(topic, key, value);
      }
      sent.add(producer.send(r));
      if (tx && (i % txSize == txSize - 1 || i == count - 1)) {
        if (aborted) call(producer, "abortTransaction");
        else call(producer, "commitTransaction");
      } else if (!tx && i % flushEvery == flushEvery - 1) producer.flush(); // several batches per partition
    }
    producer.flush();
    for (Future<RecordMetadata> s : sent) {
      try {
        s.get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (!tx) throw e; // records of an aborted transaction report the abort
      }
    }
    producer.close();
  }

  static void commit(String bootstrap, String group, String[] topics) throws Exception {
    KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, group, null);
    Map<TopicPartition, OffsetAndMetadata> offsets = new java.util.HashMap<>();
    List<TopicPartition> tps = new ArrayList<>();
    for (String topic : topics) tps.addAll(partitions(c, topic));
    for (Map.Entry<TopicPartition, Long> e : endOffsets(c, tps).entrySet())
      offsets.put(e.getKey(), new OffsetAndMetadata(e.getValue() / 2, "matrix"));
    c.commitSync(offsets);
    c.close();
  }

  static void part(MessageDigest h, byte[] b) {
    if (b == null) h.update(utf8("\u0000null"));
    else {
      h.update(utf8(b.length + ":"));
      h.update(b);
    }
  }

  /** Per partition of one topic: every record hashed in log order; all partitions read by one consumer at once. */
  static void digest(String bootstrap, String topic, String isolation, boolean timestamps, String group) throws Exception {
    KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, group != null ? group : "matrix-digest-unused", isolation);
    List<TopicPartition> tps = partitions(c, topic);
    Map<TopicPartition, Long> committed = new java.util.HashMap<>();
    for (TopicPartition tp : tps) committed.put(tp, group != null ? committed(c, tp) : -1L);
    Map<TopicPartition, Long> end = endOffsets(c, tps);
    seek(c, "seekToBeginning", tps);
    Map<TopicPartition, MessageDigest> h = new java.util.HashMap<>();
    Map<TopicPartition, long[]> counts = new java.util.HashMap<>(); // {count, prefix}
    for (TopicPartition tp : tps) {
      h.put(tp, MessageDigest.getInstance("SHA-256"));
      counts.put(tp, new long[2]);
    }
    int idle = 0;
    for (;;) {
      List<TopicPartition> behind = new ArrayList<>();
      for (TopicPartition tp : tps) if (c.position(tp) < end.get(tp)) behind.add(tp);
      if (behind.isEmpty()) break;
      List<ConsumerRecord<byte[], byte[]>> rs = poll(c);
      idle = rs.isEmpty() ? idle + 1 : 0;
      if (idle > 60) throw new IllegalStateException(behind.get(0) + ": no record for 30 s at " + c.position(behind.get(0)) + " of " + end.get(behind.get(0)));
      // A poll returns each partition's records in log order.
      for (ConsumerRecord<byte[], byte[]> r : rs) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        if (r.offset() >= end.get(tp)) continue;
        long[] n = counts.get(tp);
        n[0]++;
        if (committed.get(tp) >= 0 && r.offset() < committed.get(tp)) n[1]++;
        MessageDigest d = h.get(tp);
        part(d, r.key());
        part(d, r.value());
        if (has(r, "headers")) {
          for (Object hd : (Iterable<?>) call(r, "headers")) {
            part(d, utf8((String) call(hd, "key")));
            part(d, (byte[]) call(hd, "value"));
          }
        }
        if (timestamps) d.update(utf8("@" + call(r, "timestamp")));
      }
    }
    StringBuilder out = new StringBuilder();
    for (TopicPartition tp : tps) {
      StringBuilder hex = new StringBuilder();
      for (byte b : h.get(tp).digest()) hex.append(String.format("%02x", b));
      long cm = committed.get(tp);
      out.append(topic).append(' ').append(tp.partition()).append(' ').append(counts.get(tp)[0]).append(' ').append(hex).append(' ').append(cm >= 0 ? counts.get(tp)[1] : -1)
          .append(' ').append(cm).append('\n');
    }
    c.close();
    System.out.print(out);
  }
}
