package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
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
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad requests get OpenAI error JSON and the right status; a gone client frees its slot; the server lives on. */
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
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (key != null) b.header("Authorization", "Bearer " + key);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), Json.MAPPER.readTree(r.body()));
    }

    static void assertError(int status, String code, Reply r) {
        assertEquals(status, r.status(), r.body().toString());
        JsonNode err = r.body().get("error");
        assertNotNull(err, r.body().toString());
        assertTrue(err.get("message").asText().length() > 5, r.body().toString());
        assertTrue(err.has("type") && err.has("param") && err.has("code"), r.body().toString());
        if (code != null) assertEquals(code, err.get("code").asText());
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
        assertError(404, null, post("/nowhere", "{}", KEY));
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

            assertError(429, null, post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"hi\",\"max_tokens\":2}", KEY));
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
        assertTrue(s.server.metrics().render().contains("moe4j_cancelled_total 1"), s.server.metrics().render());
    }
}
