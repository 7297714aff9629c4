package dev.moe4j.serve;

import java.util.List;

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
 * @param limits          what one connection may take: its read deadlines, and how many connections at once
 * @param access          which Host names are served and which web origins may call the API from a browser
 */
public record ServerOptions(String host, int port, String apiKey, int maxConcurrent, int maxQueue, String modelId, long stepPauseMillis,
                            int prefillChunk, ConnectionLimits limits, WebAccess access) {
    public static final int DEFAULT_PREFILL_CHUNK = 256;

    public ServerOptions(String host, int port, String apiKey, int maxConcurrent, int maxQueue, String modelId, long stepPauseMillis) {
        this(host, port, apiKey, maxConcurrent, maxQueue, modelId, stepPauseMillis, DEFAULT_PREFILL_CHUNK, ConnectionLimits.DEFAULT,
                WebAccess.LOOPBACK_ONLY);
    }

    public ServerOptions {
        if (prefillChunk < 1) throw new IllegalArgumentException("--prefill-chunk must be >= 1, got " + prefillChunk);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        if (maxConcurrent < 1) throw new IllegalArgumentException("--max-concurrent must be >= 1, got " + maxConcurrent);
        if (maxQueue < 0) throw new IllegalArgumentException("--max-queue must be >= 0, got " + maxQueue);
        if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("the API key must not be blank");
        if (limits == null || access == null) throw new IllegalArgumentException("limits and access must be given");
    }

    public ServerOptions withLimits(ConnectionLimits limits) {
        return new ServerOptions(host, port, apiKey, maxConcurrent, maxQueue, modelId, stepPauseMillis, prefillChunk, limits, access);
    }

    public ServerOptions withAccess(WebAccess access) {
        return new ServerOptions(host, port, apiKey, maxConcurrent, maxQueue, modelId, stepPauseMillis, prefillChunk, limits, access);
    }

    /**
     * What one client may hold. Once a request's first byte is in, its headers must be complete within
     * {@code headerTimeoutMillis} (so a client that sends a header line every few seconds is closed, with a 408), and
     * its body within {@code bodyTimeoutMillis} of the headers. Connections with no request on the way are left to
     * Jetty's idle timeout (30 s; {@code headerTimeoutMillis} while at {@code maxConnections}).
     *
     * @param maxConnections      open connections at most; further clients wait in the listen backlog until one closes
     * @param headerTimeoutMillis ms from a request's first byte to the end of its headers (request line included)
     * @param bodyTimeoutMillis   ms allowed for a request's body once its headers are in
     * @param maxBodyBytes        largest request body accepted, in bytes; larger ones get 413
     */
    public record ConnectionLimits(int maxConnections, long headerTimeoutMillis, long bodyTimeoutMillis, int maxBodyBytes) {
        public static final ConnectionLimits DEFAULT = new ConnectionLimits(256, 10_000, 30_000, 1 << 20);

        public ConnectionLimits {
            if (maxConnections < 1) throw new IllegalArgumentException("--max-connections must be >= 1, got " + maxConnections);
            if (headerTimeoutMillis < 1) throw new IllegalArgumentException("--header-timeout must be > 0, got " + headerTimeoutMillis + " ms");
            if (bodyTimeoutMillis < 1) throw new IllegalArgumentException("--body-timeout must be > 0, got " + bodyTimeoutMillis + " ms");
            if (maxBodyBytes < 1) throw new IllegalArgumentException("the largest body must be >= 1 byte, got " + maxBodyBytes);
        }
    }

    /**
     * Browser-facing rules. Requests whose {@code Host} is not loopback ({@code localhost}, {@code 127.0.0.1},
     * {@code [::1]}), the bound host or one of {@code allowedHosts} get 403 (this stops DNS rebinding); {@code "*"}
     * allows any. A request with an {@code Origin} that is neither the server's own (its host:port equal to the
     * {@code Host} header) nor in {@code corsOrigins} ({@code "*"}: any) gets 403 before any handler runs; listed
     * origins get CORS headers and preflight answers.
     *
     * @param allowedHosts extra host names (or IP literals) served, without port; case-insensitive
     * @param corsOrigins  origins such as {@code https://app.example.com} that may call the API from a page
     */
    public record WebAccess(List<String> allowedHosts, List<String> corsOrigins) {
        public static final WebAccess LOOPBACK_ONLY = new WebAccess(List.of(), List.of());

        public WebAccess {
            allowedHosts = List.copyOf(allowedHosts);
            corsOrigins = List.copyOf(corsOrigins);
            for (String h : allowedHosts) {
                if (h.isBlank() || h.contains("/")) throw new IllegalArgumentException("--allowed-host: '" + h + "' is not a host name");
            }
            for (String o : corsOrigins) {
                if (!o.equals("*") && !o.matches("(?i)https?://[^/\\s]+")) {
                    throw new IllegalArgumentException("--cors-origin: '" + o + "' is not an origin such as https://app.example.com (or *)");
                }
            }
        }
    }
}
