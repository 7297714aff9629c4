package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Reads a POST body the one way every endpoint does: the media type must be JSON in UTF-8 (so a browser form or
 * a cross-site {@code text/plain} POST is refused with 415 before anything runs), the body must arrive within the
 * body deadline and fit the size limit, and it must be one strict JSON object (no duplicate keys, nothing after it).
 * A client that hangs up mid-upload gets a one-line 400, not a stack trace in the log.
 */
final class RequestBody {
    private static final Logger log = LoggerFactory.getLogger(RequestBody.class);

    private final ServerOptions.ConnectionLimits limits;
    private final Metrics metrics;

    RequestBody(ServerOptions.ConnectionLimits limits, Metrics metrics) {
        this.limits = limits;
        this.metrics = metrics;
    }

    /**
     * The body of {@code ctx} as a JSON object.
     *
     * @throws ApiException 415 (not {@code application/json}, or a charset other than UTF-8), 413 (over the size
     *                      limit), 408 (not complete within the body deadline), 400 (cut short, or not one JSON object)
     */
    JsonNode json(Context ctx) throws InterruptedException {
        requireJson(ctx.header("Content-Type"));
        return Json.parse(bytes(ctx, ServletContextRequest.getServletContextRequest(ctx.req())));
    }

    static void requireJson(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            throw ApiException.refused(415, "unsupported_media_type",
                    "the request has no Content-Type: send the JSON body with 'Content-Type: application/json'");
        }
        String[] parts = contentType.split(";");
        String type = parts[0].trim().toLowerCase(Locale.ROOT);
        if (!type.equals("application/json")) {
            throw ApiException.refused(415, "unsupported_media_type",
                    "Content-Type '" + parts[0].trim() + "' is not supported: send the JSON body with 'Content-Type: application/json'");
        }
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq < 0 || !parts[i].substring(0, eq).trim().equalsIgnoreCase("charset")) continue;
            String charset = parts[i].substring(eq + 1).trim().replace("\"", "");
            if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
                throw ApiException.refused(415, "unsupported_media_type",
                        "charset '" + charset + "' is not supported: JSON request bodies must be UTF-8");
            }
        }
    }

    private byte[] bytes(Context ctx, Request request) throws InterruptedException {
        long declared = request.getLength(); // -1 when chunked
        if (declared > limits.maxBodyBytes()) throw tooLarge(declared);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limits.bodyTimeoutMillis());
        ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 1024);
        while (true) {
            Content.Chunk chunk = request.read();
            if (chunk == null) {
                CountDownLatch ready = new CountDownLatch(1);
                request.demand(ready::countDown);
                long left = deadline - System.nanoTime();
                if (left <= 0 || !ready.await(left, TimeUnit.NANOSECONDS)) throw timedOut(ctx);
                continue;
            }
            if (Content.Chunk.isFailure(chunk)) {
                if (!chunk.isLast()) throw timedOut(ctx); // a transient failure is Jetty's idle timeout
                log.debug("request body cut short: {}", String.valueOf(chunk.getFailure()));
                throw ApiException.refused(400, "incomplete_body", "the request body ended early: the connection was closed");
            }
            try {
                ByteBuffer b = chunk.getByteBuffer();
                if (out.size() + (long) b.remaining() > limits.maxBodyBytes()) throw tooLarge(out.size() + (long) b.remaining());
                byte[] piece = new byte[b.remaining()];
                b.get(piece);
                out.write(piece, 0, piece.length);
            } finally {
                chunk.release();
            }
            if (chunk.isLast()) return out.toByteArray();
        }
    }

    private ApiException tooLarge(long bytes) {
        return ApiException.refused(413, "request_too_large",
                "the request body has " + (bytes >= 0 ? "at least " + bytes : "more than " + limits.maxBodyBytes())
                        + " bytes; the limit is " + limits.maxBodyBytes());
    }

    private ApiException timedOut(Context ctx) {
        metrics.readTimeout();
        ctx.header("Connection", "close"); // the rest of the body is not read
        return ApiException.refused(408, "request_timeout", "the request body did not arrive within " + limits.bodyTimeoutMillis() + " ms");
    }
}
