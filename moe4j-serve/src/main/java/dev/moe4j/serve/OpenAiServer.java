package dev.moe4j.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.model.Model;
import dev.moe4j.util.Moe4jException;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;

/**
 * An OpenAI-compatible HTTP server over one model: chat and text completions (whole or streamed), model
 * list, health and Prometheus metrics. Requests run on virtual threads and wait on the {@link Engine},
 * which batches their decode steps. Every answer that is not a success has OpenAI's error shape.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpenAiServer.class);
    private static final Set<String> ENDPOINTS = Set.of("/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics");
    private static final String HANDLED = "moe4j.error-written";
    /** Seconds a client told 429 should wait before retrying: about the time a short answer takes. */
    private static final String RETRY_AFTER_SECONDS = "1";

    private final ServerOptions options;
    private final Metrics metrics;
    private final Engine engine;
    private final ReadDeadlines deadlines;
    private final ClientWatch clients = new ClientWatch();
    private final HostAllowList hosts;
    private final OriginCheck origins;
    private final Javalin app;
    private final long created = System.currentTimeMillis() / 1000;

    /**
     * Starts serving {@code model}; the caller keeps ownership of the model and closes it after this server.
     *
     * @throws Moe4jException when the address cannot be listened on (port in use, unknown host), naming host:port
     */
    public static OpenAiServer start(Model model, ServerOptions options) {
        return new OpenAiServer(model, options, null);
    }

    /** For tests: a server whose chat replies are the script's text (the model still runs every step). */
    static OpenAiServer start(Model model, ServerOptions options, ReplyScript script) {
        return new OpenAiServer(model, options, script);
    }

    private OpenAiServer(Model model, ServerOptions options, ReplyScript script) {
        model.tokenizer(); // fails now, with the file named, when the checkpoint has no tokenizer
        this.options = options;
        this.metrics = new Metrics(model.config().layers(), model.config().experts());
        this.hosts = new HostAllowList(options.host(), options.access().allowedHosts());
        this.origins = new OriginCheck(options.access().corsOrigins());
        this.engine = new Engine(model, metrics, options.maxConcurrent(), options.maxQueue(), options.stepPauseMillis(), options.prefillChunk());
        this.deadlines = new ReadDeadlines(options.limits().headerTimeoutMillis(), options.limits().maxConnections(), metrics);
        CompletionHandler completions = new CompletionHandler(model, engine, options.modelId(), new RequestBody(options.limits(), metrics), clients, script);
        try {
            this.app = Javalin.create(cfg -> {
                cfg.startup.showJavalinBanner = false;
                cfg.startup.showOldJavalinVersionWarning = false;
                cfg.concurrency.useVirtualThreads = true;
                cfg.http.compressionStrategy = CompressionStrategy.NONE; // SSE chunks must leave as they are written
                cfg.http.prefer405over404 = true;
                cfg.http.maxRequestSize = options.limits().maxBodyBytes();
                cfg.jetty.addConnector(this::connector);
                cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
                cfg.routes.before(this::checkHost);
                cfg.routes.before(origins::apply);
                cfg.routes.before("/v1/*", this::authenticate);
                cfg.routes.post("/v1/chat/completions", completions::chat);
                cfg.routes.post("/v1/completions", completions::completion);
                cfg.routes.get("/v1/models", this::models);
                cfg.routes.get("/health", ctx -> ctx.json(health()));
                cfg.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render()));
                cfg.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e));
                cfg.routes.exception(HttpResponseException.class, (e, ctx) -> {
                    if (e.getStatus() == 405) methodNotAllowed(ctx, String.join(", ", e.getDetails().values()));
                    else if (e.getStatus() == 404) unknownUrl(ctx); // Javalin's own wording names its internals
                    else error(ctx, ApiException.ofStatus(e.getStatus(), e.getMessage()));
                });
                cfg.routes.exception(Exception.class, (e, ctx) -> {
                    log.error("request {} {} failed", ctx.method(), ctx.path(), e);
                    error(ctx, new ApiException(500, "server_error", null, null, "internal server error; the server log has the details"));
                });
                cfg.routes.error(404, ctx -> {
                    if (ctx.attribute(HANDLED) == null) unknownUrl(ctx);
                });
                cfg.routes.error(405, ctx -> {
                    if (ctx.attribute(HANDLED) == null) methodNotAllowed(ctx, "");
                });
                cfg.routes.after(ctx -> metrics.request(ENDPOINTS.contains(ctx.path()) ? ctx.path() : "other", ctx.statusCode()));
            }).start();
        } catch (RuntimeException e) {
            engine.close();
            deadlines.close();
            clients.close();
            throw listenFailure(e);
        }
        log.info("serving {} on http://{}:{}", options.modelId(), options.host(), port());
    }

    /** The one listening connector: read deadlines on every connection, and at most maxConnections of them. */
    private ServerConnector connector(Server server, HttpConfiguration http) {
        http.addCustomizer(deadlines);
        http.setSendServerVersion(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(options.host());
        connector.setPort(options.port());
        connector.addEventListener(deadlines);
        NetworkConnectionLimit limit = new NetworkConnectionLimit(options.limits().maxConnections(), connector);
        limit.setEndPointIdleTimeout(options.limits().headerTimeoutMillis()); // at the cap, idle keep-alive connections go sooner
        server.addBean(limit);
        return connector;
    }

    /** A failure to bind (port in use, unknown host) as a one-line Moe4jException; anything else as it is. */
    private RuntimeException listenFailure(RuntimeException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        boolean network = root instanceof java.io.IOException || root instanceof java.nio.channels.UnresolvedAddressException;
        return network ? cannotListen(options.host(), options.port(), root) : e;
    }

    /**
     * Fails now, as {@link #start} would, if {@code host:port} cannot be listened on, so that a command can say so
     * before it spends time loading a model. (Another process may still take the port in between.)
     *
     * @throws Moe4jException naming host:port and the reason (address in use, unknown host)
     */
    public static void checkCanListen(String host, int port) {
        if (port == 0) return;
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true); // as Jetty does, so a port in TIME_WAIT is not taken for busy
            probe.bind(new java.net.InetSocketAddress(host, port));
        } catch (java.io.IOException | RuntimeException e) {
            throw cannotListen(host, port, e);
        }
    }

    private static Moe4jException cannotListen(String host, int port, Throwable why) {
        String reason = why.getMessage() != null ? why.getMessage() : why.getClass().getSimpleName();
        if (why instanceof java.net.BindException && reason.toLowerCase(java.util.Locale.ROOT).contains("in use")) {
            reason += " (another server on that port? choose one with --port, or 0 for a free one)";
        }
        return new Moe4jException("cannot listen on " + host + ":" + port + ": " + reason, why);
    }

    public int port() { return app.port(); }
    public Metrics metrics() { return metrics; }

    /** DNS rebinding: a browser tricked into calling us sends the attacker's host name. */
    private void checkHost(Context ctx) {
        String host = ctx.header("Host");
        if (!hosts.allows(host)) {
            throw ApiException.refused(403, "host_not_allowed", "Host '" + host + "' is not served here; the operator can allow it with --allowed-host");
        }
    }

    private void authenticate(Context ctx) {
        if (options.apiKey() == null || ctx.method().name().equals("OPTIONS")) return; // preflights carry no credentials
        String h = ctx.header("Authorization");
        String given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : null;
        if (given == null) {
            throw new ApiException(401, "invalid_request_error", "missing_api_key", null,
                    "no API key given: send it as 'Authorization: Bearer KEY'");
        }
        // Constant-time comparison: the key is a secret.
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), options.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error", "invalid_api_key", null, "incorrect API key");
        }
    }

    private void models(Context ctx) {
        ObjectNode m = Json.object();
        m.put("id", options.modelId());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "moe4j");
        ObjectNode root = Json.object();
        root.put("object", "list");
        root.putArray("data").add(m);
        ctx.contentType("application/json").result(Json.write(root));
    }

    private java.util.Map<String, Object> health() {
        return java.util.Map.of("status", "ok", "model", options.modelId(),
                "active", engine.activeCount(), "queued", engine.queueDepth());
    }

    /** 404 with OpenAI's code for a path that is not served. */
    private static void unknownUrl(Context ctx) {
        error(ctx, ApiException.refused(404, "unknown_url", "unknown URL: " + ctx.method() + " " + ctx.path()));
    }

    private static void methodNotAllowed(Context ctx, String allowed) {
        if (!allowed.isEmpty()) ctx.header("Allow", allowed);
        error(ctx, ApiException.refused(405, "method_not_allowed", ctx.method() + " is not allowed on " + ctx.path()
                + (allowed.isEmpty() ? "" : "; allowed: " + allowed)));
    }

    private static void error(Context ctx, ApiException e) {
        ctx.attribute(HANDLED, true);
        if (e.status == 401) ctx.header("WWW-Authenticate", "Bearer");
        if (e.status == 429) ctx.header("Retry-After", RETRY_AFTER_SECONDS);
        ctx.status(e.status).contentType("application/json").result(Json.write(Json.error(e)));
    }

    @Override
    public void close() {
        app.stop();
        engine.close();
        deadlines.close();
        clients.close();
    }
}
