package dev.moe4j.serve;

import io.javalin.http.Context;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which web origins may call the server, checked before any handler runs. A request without {@code Origin} (curl,
 * SDKs) or from the server's own origin (its host:port equals the {@code Host} header) is served as usual; one from
 * an origin the operator listed with --cors-origin is served with CORS headers, and its preflight is answered here;
 * any other gets 403 {@code origin_not_allowed}, so a page on another site cannot make a browser generate
 * (the browser would hide the answer, but the work and its side effects would happen).
 */
final class OriginCheck {
    private static final String ALLOWED_METHODS = "GET, POST, OPTIONS";
    private static final String DEFAULT_ALLOWED_HEADERS = "authorization, content-type";
    private static final String PREFLIGHT_MAX_AGE_SECONDS = "600";

    private final Set<String> listed;
    private final boolean any;

    /** @param corsOrigins origins such as {@code https://app.example.com}; {@code "*"} allows every origin */
    OriginCheck(List<String> corsOrigins) {
        this.any = corsOrigins.contains("*");
        this.listed = corsOrigins.stream().map(OriginCheck::normalise).collect(Collectors.toSet());
    }

    /**
     * Lets the request through (adding CORS headers for a listed origin), answers a listed origin's preflight with
     * 204 and skips the rest, or refuses.
     *
     * @throws ApiException 403 {@code origin_not_allowed} for an origin neither listed nor the server's own
     */
    void apply(Context ctx) {
        String origin = ctx.header("Origin");
        if (origin == null || sameOrigin(origin, ctx.header("Host"))) return;
        if (!any && !listed.contains(normalise(origin))) {
            throw ApiException.refused(403, "origin_not_allowed", "Origin '" + origin
                    + "' may not call this server; the operator can allow it with --cors-origin");
        }
        ctx.header("Access-Control-Allow-Origin", any ? "*" : origin.trim());
        ctx.header("Vary", "Origin");
        String preflightMethod = ctx.header("Access-Control-Request-Method");
        if (ctx.method().name().equals("OPTIONS") && preflightMethod != null) {
            String headers = ctx.header("Access-Control-Request-Headers");
            ctx.header("Access-Control-Allow-Methods", ALLOWED_METHODS);
            ctx.header("Access-Control-Allow-Headers", headers == null || headers.isBlank() ? DEFAULT_ALLOWED_HEADERS : headers);
            ctx.header("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECONDS);
            ctx.status(204);
            ctx.skipRemainingHandlers();
        }
    }

    /** Whether {@code origin}'s host and port are those of the {@code Host} header (its port defaulting to the scheme's). */
    static boolean sameOrigin(String origin, String hostHeader) {
        if (hostHeader == null) return false;
        URI o;
        URI h;
        try {
            o = new URI(origin.trim());
            if (o.getScheme() == null || o.getHost() == null) return false;
            h = new URI(o.getScheme() + "://" + hostHeader.trim());
        } catch (java.net.URISyntaxException e) {
            return false;
        }
        if (h.getHost() == null) return false;
        return o.getHost().equalsIgnoreCase(h.getHost()) && port(o) == port(h);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) return u.getPort();
        return u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    private static String normalise(String origin) {
        String o = origin.trim().toLowerCase(Locale.ROOT);
        return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    }
}
