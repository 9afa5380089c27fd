import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local bound to 127.0.0.1 only. DynamoDB Local's own main binds every interface and has
 * no host flag, so this launcher builds the server from the usual command-line flags and sets the
 * connector's host before starting it.
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    java.lang.reflect.Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    for (var connector : jetty.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1");
    // The parent keeps our stdin open; when it exits (even by SIGKILL) stdin closes and we stop too,
    // so no Java process outlives the Node process that started it.
    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {}
        proxy.stop();
      } catch (Exception ignored) {
      }
      System.exit(0);
    });
    watchdog.setDaemon(true);
    watchdog.start();
    proxy.join();
  }
}
