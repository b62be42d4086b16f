package dev.c8dr.realstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.opensearch.Version;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One real OpenSearch node, embedded: the distribution's launcher (and its download) is replaced
 * by this main, which hands the netty4 transport plugin to {@link Node} as a classpath plugin
 * (the distribution loads it from modules/). Everything else is the real server code.
 *
 * <p>Usage: {@code OpenSearchNode --home DIR --cluster NAME --http-port P --transport-port T
 * --repo DIR}. Binds 127.0.0.1 only, single-node discovery, and prints "c8dr-opensearch started
 * http=127.0.0.1:P" when the node is up.
 */
public final class OpenSearchNode {

    /** The protected constructor that takes classpath plugins is the way to embed a node. */
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                usage("unexpected argument " + args[i]);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        for (String required : List.of("home", "cluster", "http-port", "transport-port", "repo")) {
            if (!opts.containsKey(required)) {
                usage("missing --" + required);
            }
        }
        Path home = Paths.get(opts.get("home")).toAbsolutePath();
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        String cluster = opts.get("cluster");

        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .putList("path.repo", opts.get("repo"))
            .put("cluster.name", cluster)
            .put("node.name", cluster + "-0")
            .put("network.host", "127.0.0.1")
            .put("http.port", opts.get("http-port"))
            .put("transport.port", opts.get("transport-port"))
            .put("discovery.type", "single-node")
            // a test machine's disk is shared with builds: do not turn indices read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        LogConfigurator.configureWithoutConfig(settings);

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), home.resolve("config"), () -> cluster + "-0");
        Node node = new EmbeddedNode(env, List.of(Netty4Plugin.class));

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                System.err.println("c8dr-opensearch: close failed: " + e);
            } finally {
                stopped.countDown();
            }
        }, "c8dr-opensearch-shutdown"));
        node.start();
        System.out.println("c8dr-opensearch started http=127.0.0.1:" + opts.get("http-port")
            + " version=" + Version.CURRENT);
        System.out.flush();
        stopped.await();
    }

    private static void usage(String why) {
        System.err.println("c8dr-opensearch: " + why);
        System.err.println("usage: OpenSearchNode --home DIR --cluster NAME --http-port P --transport-port T --repo DIR");
        System.exit(2);
    }
}
