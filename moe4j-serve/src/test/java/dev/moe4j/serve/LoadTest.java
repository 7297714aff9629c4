package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 16 concurrent clients send 200 requests on loopback (half streamed, half whole); every one must come back
 * complete. Bounded: 16 warm-up and 200 measured requests of at most 16 tokens, and time limits. Prints latency
 * and throughput.
 */
class LoadTest {
    static final int CLIENTS = 16, REQUESTS = 200, MAX_TOKENS = 16;

    @Test
    void sixteenClientsTwoHundredRequests() throws Exception {
        try (TestServer s = TestServer.start("qwen2moe-tiny", null, CLIENTS, 0, 0);
             ExecutorService pool = Executors.newFixedThreadPool(CLIENTS)) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            // Warm-up, not measured: the first requests run while the JIT compiles the kernels.
            List<Future<Integer>> warm = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int i = c;
                warm.add(pool.submit(() -> whole(http, s, REQUESTS + i)));
            }
            for (Future<Integer> f : warm) f.get(1, TimeUnit.MINUTES);
            AtomicInteger next = new AtomicInteger();
            AtomicLong tokens = new AtomicLong();
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < REQUESTS; ) {
                        long start = System.nanoTime();
                        tokens.addAndGet(i % 2 == 0 ? whole(http, s, i) : streamed(http, s, i));
                        latencies.add(System.nanoTime() - start);
                    }
                    return null;
                }));
            }
            for (Future<?> f : clients) f.get(3, TimeUnit.MINUTES);
            double secs = (System.nanoTime() - t0) / 1e9;
            assertEquals(REQUESTS, latencies.size());
            List<Long> sorted = latencies.stream().sorted().toList();
            System.out.printf("load test: %d clients, %d requests in %.2f s; latency p50 %.1f ms, p99 %.1f ms; %d completion tokens, %.0f tokens/s; "
                            + "mean decode batch %.1f%n", CLIENTS, REQUESTS, secs, sorted.get(REQUESTS / 2) / 1e6,
                    sorted.get((int) Math.ceil(REQUESTS * 0.99) - 1) / 1e6, tokens.get(), tokens.get() / secs, meanBatch(s));
        }
    }

    private static String body(TestServer s, int i, boolean stream) {
        return "{\"model\":\"" + s.id + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Request number " + i + "\"}],"
                + "\"max_tokens\":" + MAX_TOKENS + ",\"temperature\":0.7,\"seed\":" + i + ",\"stream\":" + stream
                + (stream ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    private static HttpRequest request(TestServer s, String body) {
        return HttpRequest.newBuilder(URI.create(s.baseUrl() + "/chat/completions")).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static int whole(HttpClient http, TestServer s, int i) throws Exception {
        HttpResponse<String> r = http.send(request(s, body(s, i, false)), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = Json.MAPPER.readTree(r.body());
        String finish = j.at("/choices/0/finish_reason").asText();
        assertTrue(finish.equals("stop") || finish.equals("length"), r.body());
        int n = j.at("/usage/completion_tokens").asInt();
        assertTrue(n >= 1 && n <= MAX_TOKENS, r.body());
        return n;
    }

    private static int streamed(HttpClient http, TestServer s, int i) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = http.send(request(s, body(s, i, true)), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        List<String> data = r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", data.getLast(), "stream ends with [DONE]");
        String finish = null;
        int n = -1;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode j = Json.MAPPER.readTree(d);
            if (j.has("usage")) n = j.at("/usage/completion_tokens").asInt();
            JsonNode f = j.at("/choices/0/finish_reason");
            if (f.isTextual()) finish = f.asText();
        }
        assertTrue("stop".equals(finish) || "length".equals(finish), "finish reason " + finish);
        assertTrue(n >= 1 && n <= MAX_TOKENS, "usage " + n);
        return n;
    }

    private static double meanBatch(TestServer s) {
        String m = s.server.metrics().render();
        return value(m, "moe4j_decode_rows_total") / Math.max(1, value(m, "moe4j_decode_steps_total"));
    }

    private static double value(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1)))
                .findFirst().orElse(0);
    }
}
