package dev.moe4j.cli;

import dev.moe4j.model.Model;
import dev.moe4j.serve.OpenAiServer;
import dev.moe4j.serve.ServerOptions;
import dev.moe4j.util.Moe4jException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the model behind an OpenAI-compatible HTTP API (chat and text completions, streaming, metrics).",
                "Concurrent requests are decoded together (continuous batching). Stop with Ctrl-C."})
final class ServeCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;
    @Spec CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on /v1 requests (default: the MOE4J_API_KEY environment variable, else none). "
                    + "Visible to other users in the process list: prefer --api-key-file.")
    String apiKey;

    @Option(names = "--api-key-file", paramLabel = "FILE",
            description = "Read the API key from FILE (surrounding whitespace trimmed), so that it does not show in the process list.")
    Path apiKeyFile;

    @Option(names = "--allowed-host", paramLabel = "NAME",
            description = "Also answer requests whose Host header names NAME (repeatable; '*' allows any). Loopback names and --host are always "
                    + "allowed; other Hosts get 403, which stops DNS-rebinding pages.")
    List<String> allowedHosts = new ArrayList<>();

    @Option(names = "--cors-origin", paramLabel = "ORIGIN",
            description = "Let web pages from ORIGIN (e.g. https://app.example.com; repeatable; '*' for any) call the API, with CORS headers. "
                    + "Requests from any other page's origin get 403; the server's own origin and clients without Origin always pass "
                    + "(default: none).")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "256",
            description = "Open connections at most; further clients wait until one closes (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--header-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "A request's headers must be complete within this many seconds of its first byte, else 408 and the connection "
                    + "is closed; idle connections are left to the 30 s idle timeout, or closed after this long while --max-connections are open "
                    + "(default: ${DEFAULT-VALUE}).")
    double headerTimeout;

    @Option(names = "--body-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "A request's body must be complete within this many seconds of its headers, else 408 (default: ${DEFAULT-VALUE}).")
    double bodyTimeout;

    @Option(names = "--max-concurrent", paramLabel = "N", defaultValue = "8",
            description = "Requests generated at once, batched together (default: ${DEFAULT-VALUE}).")
    int maxConcurrent;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "0",
            description = "Requests that may wait for a slot; more get HTTP 429 (default: ${DEFAULT-VALUE}: refuse at once).")
    int maxQueue;

    @Option(names = "--prefill-chunk", paramLabel = "N", defaultValue = "" + ServerOptions.DEFAULT_PREFILL_CHUNK,
            description = "Prompt tokens processed between two decode steps, so long prompts do not stall running requests (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--model-name", paramLabel = "NAME", description = "Model id clients send (default: the file or folder name).")
    String modelName;

    @Override
    public Integer call() throws InterruptedException {
        ServerOptions options = options(); // bad options and a busy port fail before the model loads
        OpenAiServer.checkCanListen(host, port);
        String id = options.modelId(), key = options.apiKey();
        Model m = opts.open();
        OpenAiServer server;
        try {
            server = OpenAiServer.start(m, options);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        spec.commandLine().getOut().printf("moe4j: serving '%s' on http://%s:%d/v1 (%d concurrent%s)%n", id, host, server.port(),
                maxConcurrent, key != null ? ", API key required" : "");
        if ((host.equals("0.0.0.0") || host.equals("::")) && allowedHosts.isEmpty()) {
            spec.commandLine().getOut().println("moe4j: only loopback Host names are answered; add --allowed-host NAME for each name clients use");
        }
        spec.commandLine().getOut().flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            m.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    /** The server's options from the command line; IllegalArgumentException or Moe4jException naming the bad option. */
    ServerOptions options() {
        return new ServerOptions(host, port, apiKey(), maxConcurrent, maxQueue, modelName != null ? modelName : defaultId(), 0, prefillChunk,
                new ServerOptions.ConnectionLimits(maxConnections, millis("--header-timeout", headerTimeout), millis("--body-timeout", bodyTimeout),
                        ServerOptions.ConnectionLimits.DEFAULT.maxBodyBytes()),
                new ServerOptions.WebAccess(allowedHosts, corsOrigins));
    }

    /** --api-key, else --api-key-file, else MOE4J_API_KEY, else none. */
    private String apiKey() {
        if (apiKey != null && apiKeyFile != null) throw new Moe4jException("give --api-key or --api-key-file, not both");
        if (apiKeyFile == null) return apiKey != null ? apiKey : System.getenv("MOE4J_API_KEY");
        String key;
        try {
            key = Files.readString(apiKeyFile, StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file"
                    : e instanceof java.nio.charset.CharacterCodingException || e instanceof java.io.UncheckedIOException ? "not UTF-8 text"
                    : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new Moe4jException("--api-key-file " + apiKeyFile + ": cannot read: " + why, e);
        }
        if (key.isEmpty()) throw new Moe4jException("--api-key-file " + apiKeyFile + ": the file is empty");
        if (key.lines().count() > 1) throw new Moe4jException("--api-key-file " + apiKeyFile + ": the key must be one line");
        return key;
    }

    private static long millis(String option, double seconds) {
        if (!(seconds > 0 && seconds <= 86_400)) throw new Moe4jException(option + " must be in (0, 86400] seconds, got " + seconds);
        return Math.max(1, Math.round(seconds * 1000));
    }

    private String defaultId() {
        String name = opts.model.toAbsolutePath().normalize().getFileName().toString();
        return Files.isDirectory(opts.model) ? name : name.replaceFirst("\\.gguf$", "");
    }
}
