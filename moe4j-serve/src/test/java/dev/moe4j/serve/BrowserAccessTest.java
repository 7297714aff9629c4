package dev.moe4j.serve;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a web page can make a browser do to a server on this machine: a cross-site form or text/plain POST (no
 * preflight, so it arrives) must not generate; a DNS-rebinding page (its own host name pointing at 127.0.0.1)
 * must get 403; CORS answers go only to origins the operator listed.
 */
class BrowserAccessTest {
    static final String EVIL = "https://evil.example";
    static TestServer plain, opened;

    @BeforeAll
    static void start() {
        plain = TestServer.start("qwen2moe-tiny", new ServerOptions("127.0.0.1", 0, null, 2, 0, "qwen2moe-tiny", 0));
        opened = TestServer.start("qwen2moe-tiny", new ServerOptions("127.0.0.1", 0, "sk-test", 2, 0, "qwen2moe-tiny", 0)
                .withAccess(new ServerOptions.WebAccess(List.of("models.example.org", "api.example.org:8443"), List.of("https://app.example"))));
    }

    @AfterAll
    static void stop() {
        if (plain != null) plain.close();
        if (opened != null) opened.close();
    }

    static long completionTokens(TestServer s) {
        return s.server.metrics().render().lines().filter(l -> l.startsWith("moe4j_completion_tokens_total "))
                .mapToLong(l -> Long.parseLong(l.split(" ")[1])).findFirst().orElseThrow();
    }

    static RawHttp.Response get(TestServer s, String path, String host, String... headers) throws Exception {
        return RawHttp.exchange(s.server.port(), RawHttp.get(path, host, headers));
    }

    @Test
    void aCrossSiteTextPlainPostIsRefusedBeforeGenerating() throws Exception {
        String body = "{\"model\":\"qwen2moe-tiny\",\"prompt\":\"hi\",\"max_tokens\":4}";
        long before = completionTokens(plain);
        for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
            RawHttp.Response r = RawHttp.exchange(plain.server.port(),
                    RawHttp.post("/v1/completions", "localhost:" + plain.server.port(), type, body, "Origin: " + EVIL));
            assertEquals(403, r.status(), type + ": " + r.body());
            assertEquals("origin_not_allowed", r.json().at("/error/code").asText());
            assertNull(r.header("Access-Control-Allow-Origin"), "no CORS header: the page cannot read the answer");
            // A client that sends no Origin (not a browser) is refused for the media type alone.
            RawHttp.Response noOrigin = RawHttp.exchange(plain.server.port(), RawHttp.post("/v1/completions", "localhost", type, body));
            assertEquals(415, noOrigin.status(), type + ": " + noOrigin.body());
            assertEquals("unsupported_media_type", noOrigin.json().at("/error/code").asText());
        }
        assertEquals(before, completionTokens(plain), "nothing was generated");
        RawHttp.Response ok = RawHttp.exchange(plain.server.port(), RawHttp.post("/v1/completions", "localhost", "application/json", body));
        assertEquals(200, ok.status(), "the same request as JSON is served: " + ok.body());
    }

    @Test
    void aForeignHostIs403OnEveryPath() throws Exception {
        for (String path : new String[] {"/health", "/metrics", "/v1/models", "/nowhere"}) {
            RawHttp.Response r = get(plain, path, "attacker.example:" + plain.server.port());
            assertEquals(403, r.status(), path + ": " + r.body());
            assertEquals("host_not_allowed", r.json().at("/error/code").asText(), r.body());
        }
        RawHttp.Response post = RawHttp.exchange(plain.server.port(), RawHttp.post("/v1/completions", "attacker.example", "application/json",
                "{\"model\":\"qwen2moe-tiny\",\"prompt\":\"hi\",\"max_tokens\":1}"));
        assertEquals(403, post.status(), post.body());
        assertEquals(403, get(plain, "/health", "models.example.org").status(), "names are only served when listed");
        for (String host : new String[] {"localhost", "LOCALHOST:" + plain.server.port(), "127.0.0.1:" + plain.server.port(), "[::1]:80", "localhost."}) {
            assertEquals(200, get(plain, "/health", host).status(), host);
        }
    }

    @Test
    void allowedHostsAreServedAndStarServesAny() throws Exception {
        assertEquals(200, get(opened, "/health", "models.example.org:443").status());
        assertEquals(200, get(opened, "/health", "Models.Example.Org").status());
        assertEquals(403, get(opened, "/health", "other.example.org").status());
        assertEquals(200, get(opened, "/health", "api.example.org").status(), "a port given with a name is not required");
        try (TestServer any = TestServer.start("qwen2moe-tiny", new ServerOptions("127.0.0.1", 0, null, 1, 0, "qwen2moe-tiny", 0)
                .withAccess(new ServerOptions.WebAccess(List.of("*"), List.of())))) {
            assertEquals(200, get(any, "/health", "anything.example").status());
        }
    }

    @Test
    void corsHeadersGoOnlyToListedOrigins() throws Exception {
        String[] preflight = {"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization, content-type"};
        RawHttp.Response none = RawHttp.exchange(plain.server.port(), "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nOrigin: "
                + "https://app.example\r\n" + String.join("\r\n", preflight) + "\r\n\r\n");
        assertNull(none.header("Access-Control-Allow-Origin"), "no --cors-origin, no CORS: " + none.headers());
        assertNull(get(plain, "/health", "localhost", "Origin: https://app.example").header("Access-Control-Allow-Origin"));

        RawHttp.Response allowed = RawHttp.exchange(opened.server.port(), "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nOrigin: "
                + "https://app.example\r\n" + String.join("\r\n", preflight) + "\r\n\r\n");
        assertTrue(allowed.status() < 300, "a preflight carries no key and must pass: " + allowed.status() + " " + allowed.body());
        assertEquals("https://app.example", allowed.header("Access-Control-Allow-Origin"), allowed.headers().toString());
        assertTrue(allowed.header("Access-Control-Allow-Methods").contains("POST"), allowed.headers().toString());
        assertEquals("authorization, content-type", allowed.header("Access-Control-Allow-Headers"), allowed.headers().toString());
        RawHttp.Response other = RawHttp.exchange(opened.server.port(), "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nOrigin: "
                + EVIL + "\r\n" + String.join("\r\n", preflight) + "\r\n\r\n");
        assertNull(other.header("Access-Control-Allow-Origin"), "an unlisted origin gets no CORS answer: " + other.headers());
        RawHttp.Response models = get(opened, "/v1/models", "localhost", "Origin: https://app.example", "Authorization: Bearer sk-test");
        assertEquals(200, models.status());
        assertEquals("https://app.example", models.header("Access-Control-Allow-Origin"));
    }

    /** A foreign origin is refused before any handler runs (nothing generated), on every path, listed origins or not. */
    @Test
    void anUnlistedOriginIs403BeforeAnyHandlerRuns() throws Exception {
        String body = "{\"model\":\"qwen2moe-tiny\",\"prompt\":\"hi\",\"max_tokens\":4}";
        for (TestServer s : new TestServer[] {opened, plain}) {
            long before = completionTokens(s);
            RawHttp.Response post = RawHttp.exchange(s.server.port(), RawHttp.post("/v1/completions", "localhost", "application/json", body,
                    "Origin: " + EVIL, "Authorization: Bearer sk-test"));
            assertEquals(403, post.status(), post.body());
            assertEquals("origin_not_allowed", post.json().at("/error/code").asText(), post.body());
            assertEquals("invalid_request_error", post.json().at("/error/type").asText(), post.body());
            assertTrue(post.json().at("/error/message").asText().contains(EVIL), post.body());
            assertNull(post.header("Access-Control-Allow-Origin"));
            assertEquals(before, completionTokens(s), "nothing was generated");
            for (String path : new String[] {"/v1/models", "/health", "/metrics"}) {
                RawHttp.Response r = get(s, path, "localhost", "Origin: " + EVIL, "Authorization: Bearer sk-test");
                assertEquals(403, r.status(), path + ": " + r.body());
                assertEquals("origin_not_allowed", r.json().at("/error/code").asText(), r.body());
            }
            assertEquals(403, get(s, "/health", "localhost", "Origin: null").status(), "a sandboxed page's opaque origin is foreign");
        }
    }

    /** A listed origin, the server's own origin and clients without Origin are served normally. */
    @Test
    void listedOwnAndAbsentOriginsAreServed() throws Exception {
        String body = "{\"model\":\"qwen2moe-tiny\",\"prompt\":\"hi\",\"max_tokens\":2}";
        RawHttp.Response listed = RawHttp.exchange(opened.server.port(), RawHttp.post("/v1/completions", "localhost", "application/json", body,
                "Origin: https://app.example", "Authorization: Bearer sk-test"));
        assertEquals(200, listed.status(), listed.body());
        assertEquals("text_completion", listed.json().at("/object").asText(), listed.body());
        assertEquals("https://app.example", listed.header("Access-Control-Allow-Origin"));
        for (TestServer s : new TestServer[] {opened, plain}) {
            int port = s.server.port();
            String own = "Origin: http://localhost:" + port;
            RawHttp.Response same = RawHttp.exchange(port, RawHttp.post("/v1/completions", "localhost:" + port, "application/json", body,
                    own, "Authorization: Bearer sk-test"));
            assertEquals(200, same.status(), same.body());
            assertEquals(200, get(s, "/health", "LocalHost:" + port, own).status(), "host names compare without case");
            assertEquals(403, get(s, "/health", "localhost:" + (port == 1 ? 2 : port - 1), own).status(), "another port is another origin");
            assertEquals(200, get(s, "/health", "localhost").status(), "no Origin: served as before");
        }
    }
}
