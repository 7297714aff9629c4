package dev.moe4j.cli;

import dev.moe4j.model.Model;
import dev.moe4j.serve.OpenAiServer;
import dev.moe4j.serve.ServerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
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
            description = "Require 'Authorization: Bearer KEY' on /v1 requests (default: the MOE4J_API_KEY environment variable, else none).")
    String apiKey;

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
        String key = apiKey != null ? apiKey : System.getenv("MOE4J_API_KEY");
        String id = modelName != null ? modelName : defaultId();
        Model m = opts.open();
        OpenAiServer server;
        try {
            server = OpenAiServer.start(m, new ServerOptions(host, port, key, maxConcurrent, maxQueue, id, 0, prefillChunk));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        spec.commandLine().getOut().printf("moe4j: serving '%s' on http://%s:%d/v1 (%d concurrent%s)%n", id, host, server.port(),
                maxConcurrent, key != null ? ", API key required" : "");
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

    private String defaultId() {
        String name = opts.model.toAbsolutePath().normalize().getFileName().toString();
        return Files.isDirectory(opts.model) ? name : name.replaceFirst("\\.gguf$", "");
    }
}
