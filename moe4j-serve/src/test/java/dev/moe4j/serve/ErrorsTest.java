package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad requests get OpenAI error JSON and the right status, whatever layer rejects them (our checks, Javalin's
 * routing, Jetty's HTTP parser); a gone client frees its slot, streamed or not; the server lives on.
 */
class ErrorsTest {
    static final String KEY = "sk-test";
    static TestServer s;
    static HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        // One slot, no queue, and slow steps so that a long generation is still running when we look.
        s = TestServer.start("qwen2moe-tiny", KEY, 1, 0, 20);
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    record Reply(int status, JsonNode body) {}

    static Reply post(String path, String body, String key) throws Exception {
        return post(path, "application/json", body, key);
    }

    static Reply post(String path, String contentType, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) b.header("Content-Type", contentType);
        if (key != null) b.header("Authorization", "Bearer " + key);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), Json.MAPPER.readTree(r.body()));
    }

    static Reply reply(RawHttp.Response r) throws Exception {
        return new Reply(r.status(), r.json());
    }

    static String completion(String extra) {
        return "{\"model\":\"" + s.id + "\",\"prompt\":\"hi\"" + extra + "}";
    }

    static void assertError(int status, String code, Reply r) {
        assertEquals(status, r.status(), r.body().toString());
        JsonNode err = r.body().get("error");
        assertNotNull(err, r.body().toString());
        String message = err.get("message").asText();
        assertTrue(message.length() > 5, r.body().toString());
        assertFalse(message.matches("(?s).*(Exception|java\\.|jackson|jetty|javalin).*"), "names no Java internals: " + message);
        assertTrue(err.has("type") && err.has("param") && err.has("code"), r.body().toString());
        if (code != null) assertEquals(code, err.get("code").asText());
    }

    static long metric(String line) {
        return s.server.metrics().render().lines().filter(l -> l.startsWith(line + " ")).mapToLong(l -> Long.parseLong(l.substring(line.length() + 1)))
                .findFirst().orElse(0);
    }

    /** Whatever the parser objects to, the message says what and where, without the parser's advice to Java programmers. */
    @Test
    void malformedJsonMessagesNameNoParserInternals() throws Exception {
        String[][] cases = { // body, what the message must still say
                {"{\"model\":\"m\",\"temperature\":NaN}", "Non-standard token 'NaN'"},
                {"{\"temperature\":-Infinity}", "Non-standard token '-Infinity'"},
                {"{\"temperature\":+1}", "plus signs"},
                {"{\"model\":1", "Unexpected end-of-input"},
                {"{/*c*/\"model\":1}", "comment"},
                {"{\"model\":\"abc", "Unexpected end-of-input in a string"},
                {"{\"model\":tru}", "Unrecognized token 'tru'"},
        };
        for (String[] c : cases) {
            Reply r = post("/completions", c[0], KEY);
            assertError(400, null, r);
            String message = r.body().at("/error/message").asText();
            assertTrue(message.startsWith("the request body is not valid JSON: ") && message.contains(c[1]), c[0] + " -> " + message);
            assertTrue(message.matches("(?s).*\\(line 1, column \\d+\\)$"), "keeps the location: " + message);
            assertFalse(message.matches("(?s).*(`|Feature|\\[Source|REDACTED|VALUE_|enable).*"), "no parser hints: " + message);
        }
    }

    @Test
    void malformedJsonAndMissingFieldsAre400() throws Exception {
        assertError(400, null, post("/chat/completions", "{\"model\": ", KEY));
        assertError(400, null, post("/chat/completions", "[1, 2]", KEY));
        assertError(400, null, post("/chat/completions", "", KEY));
        assertError(400, null, post("/chat/completions", "{\"model\":\"" + s.id + "\"}", KEY));
        assertError(400, null, post("/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", KEY));
        assertError(400, null, post("/chat/completions", "{\"model\":\"" + s.id + "\",\"messages\":[{\"content\":\"hi\"}]}", KEY));
        assertError(400, null, post("/chat/completions", "{\"model\":\"" + s.id + "\",\"messages\":[]}", KEY));
        assertError(400, null, post("/completions", "{\"model\":\"" + s.id + "\"}", KEY));
        assertError(400, null, post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"x\",\"temperature\":\"hot\"}", KEY));
        assertError(400, null, post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"x\",\"max_tokens\":0}", KEY));
        assertError(400, null, post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"x\",\"stop\":[1]}", KEY));
    }

    @Test
    void overTheContextIs400() throws Exception {
        assertError(400, "context_length_exceeded", post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"hello\",\"max_tokens\":300}", KEY));
        String longPrompt = "word ".repeat(400);
        assertError(400, "context_length_exceeded", post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"" + longPrompt + "\"}", KEY));
    }

    @Test
    void unknownModelIs404() throws Exception {
        assertError(404, "model_not_found", post("/completions", "{\"model\":\"gpt-4\",\"prompt\":\"hi\"}", KEY));
    }

    /** An unknown path has OpenAI's code, whichever layer finds it unknown, and a message naming the request. */
    @Test
    void unknownUrlIs404UnknownUrl() throws Exception {
        Reply r = post("/nowhere", "{}", KEY);
        assertError(404, "unknown_url", r);
        assertEquals("unknown URL: POST /v1/nowhere", r.body().at("/error/message").asText());
        RawHttp.Response get = RawHttp.exchange(s.server.port(), RawHttp.get("/v1/nowhere/else", "localhost", "Authorization: Bearer " + KEY));
        assertEquals(404, get.status(), get.body());
        assertEquals("unknown_url", get.json().at("/error/code").asText(), get.body());
        RawHttp.Response root = RawHttp.exchange(s.server.port(), RawHttp.get("/", "localhost"));
        assertEquals("unknown_url", root.json().at("/error/code").asText(), root.body());
    }

    @Test
    void missingOrWrongKeyIs401() throws Exception {
        String ok = "{\"model\":\"" + s.id + "\",\"prompt\":\"hi\",\"max_tokens\":1}";
        assertError(401, "missing_api_key", post("/completions", ok, null));
        assertError(401, "invalid_api_key", post("/completions", ok, "sk-wrong"));
        HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, models.statusCode());
    }

    /** With the only slot taken the answer is 429; a client that hangs up mid-stream frees the slot at once. */
    @Test
    void busyIs429AndADisconnectedStreamFreesItsSlot() throws Exception {
        long cancelledBefore = metric("moe4j_cancelled_total");
        String body = "{\"model\":\"" + s.id + "\",\"prompt\":\"Once\",\"max_tokens\":240,\"temperature\":0,\"stream\":true}";
        // 240 tokens at >= 20 ms a step: at least 4.8 s if nobody stops it.
        try (Socket socket = new Socket("127.0.0.1", s.server.port())) {
            OutputStream out = socket.getOutputStream();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.write(bytes);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) if (line.startsWith("data: ")) break;

                HttpResponse<String> busy = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(completion(",\"max_tokens\":2"))).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
            assertError(429, "server_busy", new Reply(busy.statusCode(), Json.MAPPER.readTree(busy.body())));
            assertTrue(busy.headers().firstValue("Retry-After").orElse("").matches("[1-9][0-9]*"), "429 says when to retry: " + busy.headers());
        }
        long t0 = System.nanoTime();
        Reply r;
        do {
            Thread.sleep(20);
            r = post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"hi\",\"max_tokens\":2}", KEY);
        } while (r.status() == 429 && System.nanoTime() - t0 < 4_000_000_000L);
        double waited = (System.nanoTime() - t0) / 1e9;
        assertEquals(200, r.status(), r.body().toString());
        assertTrue(waited < 2.0, "the slot was freed only after " + waited + " s");
        assertTrue(metric("moe4j_cancelled_total") > cancelledBefore, s.server.metrics().render());
    }

    /** A non-streamed request writes nothing until it is done; its client hanging up must still stop it. */
    @Test
    void aDisconnectedNonStreamingRequestFreesItsSlot() throws Exception {
        long cancelledBefore = metric("moe4j_cancelled_total");
        try (RawHttp c = new RawHttp(s.server.port())) {
            // 240 tokens at >= 20 ms a step: at least 4.8 s if nobody stops it.
            c.send(RawHttp.post("/v1/completions", "localhost", "application/json", completion(",\"max_tokens\":240,\"temperature\":0"),
                    "Authorization: Bearer " + KEY));
            long t0 = System.nanoTime();
            while (metric("moe4j_active_sequences") == 0 && System.nanoTime() - t0 < 5_000_000_000L) Thread.sleep(10);
            assertEquals(1, metric("moe4j_active_sequences"), "the request is generating");
        }
        long t0 = System.nanoTime();
        Reply r;
        do {
            Thread.sleep(20);
            r = post("/completions", completion(",\"max_tokens\":2"), KEY);
        } while (r.status() == 429 && System.nanoTime() - t0 < 4_000_000_000L);
        double waited = (System.nanoTime() - t0) / 1e9;
        assertEquals(200, r.status(), r.body().toString());
        assertTrue(waited < 4.0, "the slot was freed only after " + waited + " s, when the request could have finished");
        assertEquals(cancelledBefore + 1, metric("moe4j_cancelled_total"), s.server.metrics().render());
    }

    /** The disconnect watch reads nothing: a kept-alive connection serves the next request, pipelined ones included. */
    @Test
    void aWatchedConnectionStaysReusableAndPipelinedRequestsAreAnswered() throws Exception {
        long cancelledBefore = metric("moe4j_cancelled_total");
        String one = RawHttp.post("/v1/completions", "localhost", "application/json", completion(",\"max_tokens\":2,\"temperature\":0"),
                "Authorization: Bearer " + KEY);
        String streamed = RawHttp.post("/v1/completions", "localhost", "application/json",
                completion(",\"max_tokens\":2,\"temperature\":0,\"stream\":true"), "Authorization: Bearer " + KEY);
        try (RawHttp c = new RawHttp(s.server.port())) {
            c.send(one);
            assertEquals(200, c.response().status());
            c.send(one);
            RawHttp.Response again = c.response();
            assertEquals(200, again.status(), again.body());
            assertEquals("length", again.json().at("/choices/0/finish_reason").asText());
            c.send(one + one); // pipelined: the second arrives while the first is generating
            assertEquals(200, c.response().status());
            assertEquals(200, c.response().status(), "the pipelined request was left for Jetty to read");
            c.send(streamed);
            String status = c.line();
            assertTrue(status.contains(" 200 "), status);
            String line;
            while ((line = c.line()) != null && !line.equals("data: [DONE]")) { } // read to the end before hanging up
            assertEquals("data: [DONE]", line);
        }
        assertEquals(cancelledBefore, metric("moe4j_cancelled_total"), "no request was taken for abandoned");
    }

    @Test
    void maxTokensNearTheIntLimitIs400NotAnOverflow() throws Exception {
        assertError(400, "context_length_exceeded", post("/completions", completion(",\"max_tokens\":2147483647"), KEY));
        assertError(400, "context_length_exceeded", post("/chat/completions", "{\"model\":\"" + s.id
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":2147483647}", KEY));
        assertError(400, null, post("/completions", completion(",\"max_tokens\":2147483648"), KEY));
        assertError(400, null, post("/completions", completion(",\"max_tokens\":1e3"), KEY));
        assertError(400, null, post("/completions", completion(",\"seed\":1.5"), KEY));
    }

    /** One JSON object and nothing else: no second value after it, no key twice. */
    @Test
    void trailingDataAndDuplicateKeysAre400() throws Exception {
        String ok = completion(",\"max_tokens\":1");
        assertError(400, null, post("/completions", ok + "{}", KEY));
        assertError(400, null, post("/completions", ok + " x", KEY));
        Reply dup = post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"a\",\"prompt\":\"b\"}", KEY);
        assertError(400, null, dup);
        assertTrue(dup.body().at("/error/message").asText().contains("prompt"), dup.body().toString());
        assertError(400, null, post("/completions", completion(",\"stream_options\":true"), KEY));
        assertError(400, null, post("/completions", "[".repeat(5000), KEY));
        assertEquals(200, post("/completions", ok + " \n", KEY).status(), "trailing whitespace is fine");
    }

    /** Only UTF-8 JSON: forms, text/plain (a cross-site POST a browser sends without asking) and other charsets get 415. */
    @Test
    void aBodyThatIsNotUtf8JsonIs415() throws Exception {
        String ok = completion(",\"max_tokens\":1");
        assertError(415, "unsupported_media_type", post("/completions", "text/plain", ok, KEY));
        assertError(415, "unsupported_media_type", post("/completions", "application/x-www-form-urlencoded", ok, KEY));
        assertError(415, "unsupported_media_type", post("/completions", null, ok, KEY));
        Reply foo = post("/completions", "application/json; charset=foo", ok, KEY);
        assertError(415, "unsupported_media_type", foo);
        assertTrue(foo.body().at("/error/message").asText().contains("foo"), foo.body().toString());
        assertError(415, "unsupported_media_type", post("/completions", "application/json; charset=ISO-8859-1", ok, KEY));
        assertEquals(200, post("/completions", "application/json; charset=\"UTF-8\"", ok, KEY).status());
        assertError(413, "request_too_large", reply(RawHttp.exchange(s.server.port(), "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer " + KEY + "\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{")));
    }

    @Test
    void aWrongMethodIs405AndSaysWhichIsAllowed() throws Exception {
        RawHttp.Response get = RawHttp.exchange(s.server.port(), RawHttp.get("/v1/chat/completions", "localhost", "Authorization: Bearer " + KEY));
        assertError(405, "method_not_allowed", reply(get));
        assertEquals("POST", get.header("Allow"));
        RawHttp.Response delete = RawHttp.exchange(s.server.port(), "DELETE /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertError(405, "method_not_allowed", reply(delete));
        assertEquals("GET", delete.header("Allow"));
    }

    /**
     * A client that half-closes after its request (shutdown(SHUT_WR)) cannot be told from one that left, so its
     * generation is dropped; what reaches it is the connection closing, never a non-standard status.
     */
    @Test
    void aHalfClosedClientGetsTheConnectionClosedNotA499() throws Exception {
        long cancelledBefore = metric("moe4j_cancelled_total");
        try (RawHttp c = new RawHttp(s.server.port())) {
            c.send(RawHttp.post("/v1/completions", "localhost", "application/json",
                    "{\"model\":\"" + s.id + "\",\"prompt\":\"hello\",\"max_tokens\":200}", "Authorization: Bearer " + KEY));
            c.socket.shutdownOutput();
            String first = c.line();
            assertEquals(null, first, "nothing is sent back, the connection is closed");
        }
        long wait = System.nanoTime();
        while (metric("moe4j_cancelled_total") == cancelledBefore && System.nanoTime() - wait < 10_000_000_000L) Thread.sleep(20);
        assertTrue(metric("moe4j_cancelled_total") > cancelledBefore, "the generation was dropped");
    }

    /** Jetty rejects these before any route runs; the answer still has OpenAI's shape. */
    @Test
    void malformedHttpGetsJsonErrors() throws Exception {
        assertError(400, null, reply(RawHttp.exchange(s.server.port(), "GARBAGE\r\n\r\n")));
        assertError(431, null, reply(RawHttp.exchange(s.server.port(), RawHttp.get("/health", "localhost", "X-Big: " + "a".repeat(20_000)))));
    }

    @Test
    void aPortInUseFailsToStartWithOneLineNamingTheAddress() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ServerOptions busy = new ServerOptions("127.0.0.1", taken.getLocalPort(), null, 1, 0, "m", 0);
            Moe4jException e = assertThrows(Moe4jException.class, () -> TestServer.start("qwen2moe-tiny", busy).close());
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": "), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            Moe4jException early = assertThrows(Moe4jException.class, () -> OpenAiServer.checkCanListen("127.0.0.1", taken.getLocalPort()));
            assertEquals(e.getMessage(), early.getMessage(), "the early check says the same");
        }
    }

    /** A client that gives up mid-upload costs one 400 and no stack trace in the log. */
    @Test
    void anAbortedUploadLogsNoStackTrace() throws Exception {
        long before = metric("moe4j_requests_total{endpoint=\"/v1/completions\",status=\"400\"}");
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            try (RawHttp c = new RawHttp(s.server.port())) {
                c.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + KEY
                        + "\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"model\":");
                Thread.sleep(200);
            }
            long t0 = System.nanoTime();
            while (metric("moe4j_requests_total{endpoint=\"/v1/completions\",status=\"400\"}") == before
                    && System.nanoTime() - t0 < 5_000_000_000L) Thread.sleep(20);
            Thread.sleep(200); // anything logged after the answer
        } finally {
            System.setErr(err);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertEquals(before + 1, metric("moe4j_requests_total{endpoint=\"/v1/completions\",status=\"400\"}"), "answered as a 400");
        assertFalse(log.contains("\tat "), "no stack trace: " + log);
        assertTrue(log.lines().count() <= 1, "at most one log line: " + log);
    }
}
