package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Requests to a test server: one JSON answer, or a streamed request's server-sent events, parsed. */
final class SseEvents {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private SseEvents() {}

    /** POSTs a JSON body to {@code path} under /v1 and reads the JSON answer, whatever its status. */
    static ErrorsTest.Reply post(TestServer s, String path, String body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        return new ErrorsTest.Reply(r.statusCode(), Json.MAPPER.readTree(r.body()));
    }

    /** The JSON objects of the {@code data:} lines before {@code [DONE]}, which must come last. */
    static List<JsonNode> events(TestServer s, String path, String body) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<java.util.stream.Stream<String>> r = HTTP.send(req, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        List<String> data = r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", data.get(data.size() - 1));
        List<JsonNode> out = new ArrayList<>();
        for (String d : data.subList(0, data.size() - 1)) out.add(Json.MAPPER.readTree(d));
        return out;
    }

    /** The text streamed for choice {@code index} (chat deltas or completion text). */
    static String text(TestServer s, String path, String body, int index) throws Exception {
        return text(events(s, path, body), index);
    }

    /** The text of choice {@code index} in these events. */
    static String text(List<JsonNode> events, int index) {
        StringBuilder b = new StringBuilder();
        for (JsonNode e : events) {
            for (JsonNode c : e.path("choices")) {
                if (c.get("index").asInt() != index) continue;
                JsonNode t = c.has("delta") ? c.path("delta").path("content") : c.path("text");
                if (t.isTextual()) b.append(t.asText());
            }
        }
        return b.toString();
    }
}
