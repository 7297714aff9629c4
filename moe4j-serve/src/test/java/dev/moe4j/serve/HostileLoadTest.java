package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 64 clients at once: 32 well-behaved ones send chat requests (half streamed), 32 hostile ones trickle headers,
 * trickle bodies, or hang up mid-stream or mid-request, over and over. Every well-behaved request must come back
 * complete, {@code /health} must answer throughout, and afterwards the server must be idle with every slot free.
 * Bounded: 4 requests per well-behaved client, hostile clients stop when those are done, 90 s at most.
 * Well-behaved clients do what OpenAI's clients do with a 429: wait for its {@code Retry-After} and try again (at most
 * {@value #RETRIES} times). Hostile clients that hang up take slots until their departure is seen, so a burst of them
 * can fill the queue for a moment; that must cost a well-behaved client a retry, never its request.
 */
class HostileLoadTest {
    static final int GOOD = 32, HOSTILE = 32, REQUESTS_EACH = 4, MAX_TOKENS = 16;
    static final long READ_DEADLINE_MS = 2_000;
    static final int RETRIES = 20;
    static final AtomicInteger RETRIED = new AtomicInteger();

    @Test
    void sixtyFourClientsHalfOfThemHostile() throws Exception {
        ServerOptions options = new ServerOptions("127.0.0.1", 0, null, 16, 64, "qwen2moe-tiny", 0)
                .withLimits(new ServerOptions.ConnectionLimits(256, READ_DEADLINE_MS, READ_DEADLINE_MS, 1 << 20));
        try (TestServer s = TestServer.start("qwen2moe-tiny", options);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
            int port = s.server.port();
            long end = System.nanoTime() + 90_000_000_000L;
            AtomicBoolean goodDone = new AtomicBoolean();
            AtomicInteger hostileAttempts = new AtomicInteger();
            List<Long> healthMillis = Collections.synchronizedList(new ArrayList<>());

            long t0 = System.nanoTime();
            List<Future<Integer>> good = new ArrayList<>();
            for (int c = 0; c < GOOD; c++) {
                int client = c;
                good.add(pool.submit(() -> {
                    int completed = 0;
                    for (int i = 0; i < REQUESTS_EACH; i++) {
                        int n = client * REQUESTS_EACH + i;
                        if (n % 2 == 0) whole(http, s, n);
                        else streamed(http, s, n);
                        completed++;
                    }
                    return completed;
                }));
            }
            List<Future<?>> hostile = new ArrayList<>();
            for (int c = 0; c < HOSTILE; c++) {
                int kind = c % 4;
                hostile.add(pool.submit(() -> {
                    while (!goodDone.get() && System.nanoTime() < end) {
                        hostileAttempts.incrementAndGet();
                        try {
                            switch (kind) {
                                case 0 -> slowHeaders(port, goodDone);
                                case 1 -> slowBody(port, goodDone);
                                case 2 -> hangUpMidStream(port);
                                default -> hangUpMidRequest(port);
                            }
                        } catch (IOException expected) {
                            // the server cut us off: that is the point
                        }
                    }
                    return null;
                }));
            }
            Future<?> health = pool.submit(() -> {
                while (!goodDone.get() && System.nanoTime() < end) {
                    long h0 = System.nanoTime();
                    assertHealthy(http, s);
                    healthMillis.add((System.nanoTime() - h0) / 1_000_000);
                    Thread.sleep(250);
                }
                return null;
            });

            int completed = 0;
            try {
                for (Future<Integer> f : good) completed += f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                // On a quiet machine every well-behaved request can finish within one read deadline; the tricklers
                // keep trickling (at most three deadlines more) until the server has cut one of them off.
                long cutBy = System.nanoTime() + 3 * READ_DEADLINE_MS * 1_000_000;
                while (metric(s, "moe4j_read_timeouts_total") == 0 && System.nanoTime() < cutBy) Thread.sleep(100);
            } finally {
                goodDone.set(true);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            health.get(30, TimeUnit.SECONDS);
            for (Future<?> f : hostile) f.get(30, TimeUnit.SECONDS);
            double hostileStopped = (System.nanoTime() - t0) / 1e9;
            assertEquals(GOOD * REQUESTS_EACH, completed, "every well-behaved request completed");

            // Afterwards: healthy, and every slot free again.
            long w = System.nanoTime();
            JsonNode h;
            do {
                Thread.sleep(50);
                h = assertHealthy(http, s);
            } while ((h.get("active").asInt() > 0 || h.get("queued").asInt() > 0) && System.nanoTime() - w < 10_000_000_000L);
            double idle = (System.nanoTime() - t0) / 1e9;
            assertEquals(0, h.get("active").asInt(), h.toString());
            assertEquals(0, h.get("queued").asInt(), h.toString());
            assertTrue(metric(s, "moe4j_cancelled_total") > 0, "hung-up requests were cancelled");
            assertTrue(metric(s, "moe4j_read_timeouts_total") > 0, "tricklers were cut off");
            List<Long> sorted = healthMillis.stream().sorted().toList();
            System.out.printf("hostile load test: %d well-behaved requests complete in %.1f s beside %d hostile attempts; /health answered %d times, "
                            + "median %d ms, slowest %d ms; %d retries after a 429; %d sequences cancelled, %d connections cut for reading too slowly; hostile clients "
                            + "stopped at %.1f s, server idle at %.1f s%n",
                    completed, secs, hostileAttempts.get(), sorted.size(), sorted.isEmpty() ? -1 : sorted.get(sorted.size() / 2),
                    sorted.isEmpty() ? -1 : sorted.getLast(), RETRIED.get(), metric(s, "moe4j_cancelled_total"), metric(s, "moe4j_read_timeouts_total"),
                    hostileStopped, idle);
            assertTrue(sorted.size() >= 1, "/health was polled during the run");
        }
    }

    private static JsonNode assertHealthy(HttpClient http, TestServer s) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.server.port() + "/health"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return Json.MAPPER.readTree(r.body());
    }

    private static long metric(TestServer s, String name) {
        return s.server.metrics().render().lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.substring(name.length() + 1)))
                .findFirst().orElse(0);
    }

    private static String chat(int n, boolean stream, int maxTokens) {
        return "{\"model\":\"qwen2moe-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Request number " + n + "\"}],"
                + "\"max_tokens\":" + maxTokens + ",\"temperature\":0.7,\"seed\":" + n + ",\"stream\":" + stream
                + (stream ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    private static HttpRequest request(TestServer s, String body) {
        return HttpRequest.newBuilder(URI.create(s.baseUrl() + "/chat/completions")).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** Sends the request, retrying after a 429 as long as its Retry-After says (bounded by {@link #RETRIES}). */
    private static <T> HttpResponse<T> send(HttpClient http, HttpRequest request, HttpResponse.BodyHandler<T> handler) throws Exception {
        for (int attempt = 0; ; attempt++) {
            HttpResponse<T> r = http.send(request, handler);
            if (r.statusCode() != 429 || attempt == RETRIES) return r;
            String after = r.headers().firstValue("Retry-After").orElse(null);
            assertTrue(after != null, "a 429 says when to retry");
            if (r.body() instanceof java.util.stream.Stream<?> lines) lines.close();
            RETRIED.incrementAndGet();
            Thread.sleep(Math.min(1000L * Long.parseLong(after), 2000));
        }
    }

    private static void whole(HttpClient http, TestServer s, int n) throws Exception {
        HttpResponse<String> r = send(http, request(s, chat(n, false, MAX_TOKENS)), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = Json.MAPPER.readTree(r.body());
        String finish = j.at("/choices/0/finish_reason").asText();
        assertTrue(finish.equals("stop") || finish.equals("length"), r.body());
        int tokens = j.at("/usage/completion_tokens").asInt();
        assertTrue(tokens >= 1 && tokens <= MAX_TOKENS, r.body());
    }

    private static void streamed(HttpClient http, TestServer s, int n) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = send(http, request(s, chat(n, true, MAX_TOKENS)), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        List<String> data = r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", data.getLast(), "stream ends with [DONE]");
        String finish = null;
        int tokens = -1;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode j = Json.MAPPER.readTree(d);
            if (j.has("usage")) tokens = j.at("/usage/completion_tokens").asInt();
            JsonNode f = j.at("/choices/0/finish_reason");
            if (f.isTextual()) finish = f.asText();
        }
        assertTrue("stop".equals(finish) || "length".equals(finish), "finish reason " + finish);
        assertTrue(tokens >= 1 && tokens <= MAX_TOKENS, "usage " + tokens);
    }

    /** A header line every 300 ms until the server closes the connection (bounded by 40 lines). */
    private static void slowHeaders(int port, AtomicBoolean stop) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET /health HTTP/1.1\r\nHost: localhost\r\n");
            for (int i = 0; i < 40 && !stop.get() && c.socket.getInputStream().available() == 0; i++) {
                c.send("X-Slow-" + i + ": yes\r\n");
                Thread.sleep(300);
            }
        }
    }

    /** Headers at once, then the body a byte every 300 ms. */
    private static void slowBody(int port, AtomicBoolean stop) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{");
            for (int i = 0; i < 40 && !stop.get() && c.socket.getInputStream().available() == 0; i++) {
                c.send(" ");
                Thread.sleep(300);
            }
        }
    }

    /** A long streamed request, abandoned after its first event. */
    private static void hangUpMidStream(int port) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send(RawHttp.post("/v1/chat/completions", "localhost", "application/json", chat(-1, true, 200)));
            for (String line; (line = c.line()) != null; ) if (line.startsWith("data: ")) break;
        }
    }

    /** A long whole-answer request, abandoned while it generates. */
    private static void hangUpMidRequest(int port) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send(RawHttp.post("/v1/chat/completions", "localhost", "application/json", chat(-2, false, 200)));
            Thread.sleep(200);
        }
    }
}
