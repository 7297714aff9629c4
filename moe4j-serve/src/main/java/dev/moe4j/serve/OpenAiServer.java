package dev.moe4j.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.model.Model;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;

/**
 * An OpenAI-compatible HTTP server over one model: chat and text completions (whole or streamed), model
 * list, health and Prometheus metrics. Requests run on virtual threads and wait on the {@link Engine},
 * which batches their decode steps.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpenAiServer.class);
    private static final Set<String> ENDPOINTS = Set.of("/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics");
    private static final String HANDLED = "moe4j.error-written";

    private final ServerOptions options;
    private final Metrics metrics;
    private final Engine engine;
    private final Javalin app;
    private final long created = System.currentTimeMillis() / 1000;

    /** Starts serving {@code model}; the caller keeps ownership of the model and closes it after this server. */
    public static OpenAiServer start(Model model, ServerOptions options) {
        return new OpenAiServer(model, options);
    }

    private OpenAiServer(Model model, ServerOptions options) {
        model.tokenizer(); // fails now, with the file named, when the checkpoint has no tokenizer
        this.options = options;
        this.metrics = new Metrics(model.config().layers(), model.config().experts());
        this.engine = new Engine(model, metrics, options.maxConcurrent(), options.maxQueue(), options.stepPauseMillis(), options.prefillChunk());
        CompletionHandler completions = new CompletionHandler(model, engine, options.modelId());
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.compressionStrategy = CompressionStrategy.NONE; // SSE chunks must leave as they are written
            cfg.jetty.host = options.host();
            cfg.jetty.port = options.port();
            cfg.routes.before("/v1/*", this::authenticate);
            cfg.routes.post("/v1/chat/completions", completions::chat);
            cfg.routes.post("/v1/completions", completions::completion);
            cfg.routes.get("/v1/models", this::models);
            cfg.routes.get("/health", ctx -> ctx.json(health()));
            cfg.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render()));
            cfg.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                log.error("request {} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, new ApiException(500, "server_error", null, null, "internal error: " + e));
            });
            cfg.routes.error(404, ctx -> {
                if (ctx.attribute(HANDLED) == null) {
                    error(ctx, new ApiException(404, "invalid_request_error", "unknown_url", null,
                            "unknown URL: " + ctx.method() + " " + ctx.path()));
                }
            });
            cfg.routes.error(405, ctx -> {
                if (ctx.attribute(HANDLED) == null) {
                    error(ctx, new ApiException(405, "invalid_request_error", "method_not_allowed", null,
                            ctx.method() + " is not allowed on " + ctx.path()));
                }
            });
            cfg.routes.after(ctx -> metrics.request(ENDPOINTS.contains(ctx.path()) ? ctx.path() : "other", ctx.statusCode()));
        }).start();
        log.info("serving {} on http://{}:{}", options.modelId(), options.host(), port());
    }

    public int port() { return app.port(); }
    public Metrics metrics() { return metrics; }

    private void authenticate(Context ctx) {
        if (options.apiKey() == null) return;
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

    private static void error(Context ctx, ApiException e) {
        ctx.attribute(HANDLED, true);
        if (e.status == 401) ctx.header("WWW-Authenticate", "Bearer");
        ctx.status(e.status).contentType("application/json").result(Json.write(Json.error(e)));
    }

    @Override
    public void close() {
        app.stop();
        engine.close();
    }
}
