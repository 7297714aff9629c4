package dev.moe4j.serve;

/**
 * How the server listens and how much it takes on.
 *
 * @param port            0 picks a free port
 * @param apiKey          null: no key needed; otherwise every {@code /v1} request needs {@code Authorization: Bearer KEY}
 * @param maxConcurrent   sequences decoded together (the batch size cap)
 * @param maxQueue        requests that may wait for a slot; beyond that the answer is 429
 * @param modelId         the name clients use for the model
 * @param stepPauseMillis pause after each decode step; 0 except in tests that need slow generation
 * @param prefillChunk    prompt tokens processed between two decode steps, so a long prompt does not stall
 *                        the sequences already generating
 */
public record ServerOptions(String host, int port, String apiKey, int maxConcurrent, int maxQueue, String modelId, long stepPauseMillis,
                            int prefillChunk) {
    public static final int DEFAULT_PREFILL_CHUNK = 256;

    public ServerOptions(String host, int port, String apiKey, int maxConcurrent, int maxQueue, String modelId, long stepPauseMillis) {
        this(host, port, apiKey, maxConcurrent, maxQueue, modelId, stepPauseMillis, DEFAULT_PREFILL_CHUNK);
    }

    public ServerOptions {
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be >= 1, got " + prefillChunk);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (maxConcurrent < 1) throw new IllegalArgumentException("max concurrent requests must be >= 1, got " + maxConcurrent);
        if (maxQueue < 0) throw new IllegalArgumentException("max queue must be >= 0, got " + maxQueue);
        if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("the API key must not be blank");
    }
}
