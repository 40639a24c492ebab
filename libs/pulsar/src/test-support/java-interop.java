// Test support: the official Java client (from deploy/pulsar/pulsar.sh classpath client), run as a
// single-file source program by interop.broker.test.ts.
//   produce <serviceUrl> <n> <topic>=<compression>=<batching>[=big]...   prints "ID <messageId>" per message
//           (payload i: "java-i-xx…", or with "big" 1000 + 3001·i bytes of bigPayload(i))
//   consume <serviceUrl> <n> <subscription> <topic>...              prints "MSG <id>\t<key>\t<prop i>\t<payload>"
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.CompressionType;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;

public class JavaInterop {
  /** Runs of letters (compressible) alternating with LCG bytes (not); the test recomputes it. */
  static byte[] bigPayload(int i) {
    byte[] b = new byte[1000 + 3001 * i];
    int x = 7919 * i + 1;
    for (int k = 0; k < b.length; k++) {
      x = x * 1103515245 + 12345;
      b[k] = (byte) ((k % 64) < 32 ? 'a' + (k / 64) % 26 : (x >>> 24));
    }
    return b;
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String url = args[1];
    int n = Integer.parseInt(args[2]);
    try (PulsarClient client = PulsarClient.builder().serviceUrl(url).build()) {
      if (mode.equals("produce")) {
        for (int a = 3; a < args.length; a++) {
          String[] spec = args[a].split("=");
          Producer<byte[]> producer = client.newProducer().topic(spec[0])
              .compressionType(CompressionType.valueOf(spec[1]))
              .enableBatching(Boolean.parseBoolean(spec[2]))
              .batchingMaxPublishDelay(50, TimeUnit.MILLISECONDS)
              .create();
          List<CompletableFuture<MessageId>> sent = new ArrayList<>();
          boolean big = spec.length > 3 && spec[3].equals("big");
          for (int i = 0; i < n; i++) {
            byte[] payload = big ? bigPayload(i) : ("java-" + i + "-" + "x".repeat(i * 10)).getBytes(StandardCharsets.UTF_8);
            sent.add(producer.newMessage().key("k" + i).property("i", String.valueOf(i)).eventTime(1000 + i).value(payload).sendAsync());
          }
          for (CompletableFuture<MessageId> f : sent) System.out.println("ID " + spec[0] + " " + f.get());
          producer.close();
        }
      } else {
        String subscription = args[3];
        for (int a = 4; a < args.length; a++) {
          Consumer<byte[]> consumer = client.newConsumer().topic(args[a]).subscriptionName(subscription)
              .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
          for (int i = 0; i < n; i++) {
            Message<byte[]> m = consumer.receive(20, TimeUnit.SECONDS);
            if (m == null) {
              System.out.println("TIMEOUT " + args[a]);
              break;
            }
            System.out.println("MSG " + args[a] + " " + m.getMessageId() + "\t" + m.getKey() + "\t" + m.getProperty("i") + "\t"
                + new String(m.getValue(), StandardCharsets.UTF_8));
            consumer.acknowledge(m);
          }
          consumer.close();
        }
      }
    }
  }
}
