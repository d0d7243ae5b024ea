// Test set-up: writes records to Kafka with the real Java producer and a given compression.type, so tests read
// batches framed exactly as producers in the field frame them. Run as a single-file program:
//   java -cp '.stack/kafka-3.4.1/libs/*' test/helpers/CompressedProducer.java BOOTSTRAP RECORDS_FILE TOPIC=CODEC...
// RECORDS_FILE: one record a line, tab-separated: partition, timestamp, key, value, then header key/value pairs;
// every field but partition and timestamp is base64, "-" for null. Flushes every 200 records, so that a partition
// gets several batches even when the data is small. Exits non-zero if any send fails.
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class CompressedProducer {
  private static byte[] field(String f) {
    return f.equals("-") ? null : Base64.getDecoder().decode(f);
  }

  public static void main(String[] args) throws Exception {
    List<String> lines = Files.readAllLines(Path.of(args[1]));
    for (int t = 2; t < args.length; t++) {
      String topic = args[t].substring(0, args[t].indexOf('='));
      String codec = args[t].substring(args[t].indexOf('=') + 1);
      Properties props = new Properties();
      props.put("bootstrap.servers", args[0]);
      props.put("compression.type", codec);
      props.put("acks", "all");
      props.put("enable.idempotence", "true"); // keeps per-partition order across retries
      props.put("linger.ms", "20");
      props.put("batch.size", "65536"); // several batches per partition, several xerial/lz4 blocks per batch
      props.put("key.serializer", ByteArraySerializer.class.getName());
      props.put("value.serializer", ByteArraySerializer.class.getName());
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++) {
          if (n > 0 && n % 200 == 0) producer.flush();
          String[] f = lines.get(n).split("\t", -1);
          RecordHeaders headers = new RecordHeaders();
          for (int i = 4; i + 1 < f.length; i += 2) headers.add(new String(field(f[i]), StandardCharsets.UTF_8), field(f[i + 1]));
          sent.add(producer.send(new ProducerRecord<>(topic, Integer.parseInt(f[0]), Long.parseLong(f[1]), field(f[2]), field(f[3]), headers)));
        }
        producer.flush();
        for (Future<RecordMetadata> s : sent) s.get(); // throws on the first failed send
      }
    }
  }
}
