package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.model.KvCache;
import dev.moe4j.model.Model;
import dev.moe4j.model.MoeTransformer;
import dev.moe4j.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** logprobs, n, logit_bias and the audit of request fields, on a random-weight reference checkpoint. */
class SamplingFieldsTest {
    static TestServer s;

    @BeforeAll
    static void start() {
        s = TestServer.start("qwen2moe-tiny", null, 4, 8, 0);
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    static ErrorsTest.Reply post(String path, String body) throws Exception {
        return SseEvents.post(s, path, body);
    }

    static String chat(String extra) {
        return "{\"model\":\"" + s.id + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story.\"}]" + extra + "}";
    }

    static String completion(String extra) {
        return "{\"model\":\"" + s.id + "\",\"prompt\":\"Once upon a time\"" + extra + "}";
    }

    /** The server's token logprobs are the log softmax of the model's logits, computed here on a second copy. */
    @Test
    void completionLogprobsAreTheLogSoftmaxOfTheModelsLogits() throws Exception {
        ErrorsTest.Reply r = post("/completions", completion(",\"max_tokens\":8,\"temperature\":0,\"logprobs\":5"));
        assertEquals(200, r.status(), r.body().toString());
        JsonNode lp = r.body().at("/choices/0/logprobs");
        int n = lp.get("tokens").size();
        assertTrue(n > 0, lp.toString());
        try (Model m = Model.load(TestServer.refs("qwen2moe-tiny"))) {
            Tokenizer tok = m.tokenizer();
            MoeTransformer t = m.transformer();
            int[] prompt = tok.encode("Once upon a time", true);
            KvCache cache = t.newCache(prompt.length + n + 1);
            float[] logits = t.forward(prompt, cache, false);
            int offset = 0;
            for (int i = 0; i < n; i++) {
                double[] logSoftmax = logSoftmax(logits);
                int best = 0;
                for (int j = 1; j < logSoftmax.length; j++) if (logSoftmax[j] > logSoftmax[best]) best = j;
                String token = new String(tok.tokenBytes(best), StandardCharsets.UTF_8);
                assertEquals(token, lp.get("tokens").get(i).asText(), "token " + i);
                assertEquals(logSoftmax[best], lp.get("token_logprobs").get(i).asDouble(), 1e-3, "token " + i);
                JsonNode top = lp.get("top_logprobs").get(i);
                assertTrue(top.size() >= 1 && top.size() <= 5, top.toString());
                // Greedy: the chosen token is the most likely (the map is keyed by text, which two tokens may share).
                assertTrue(top.has(token), top.toString());
                double most = Double.NEGATIVE_INFINITY;
                for (JsonNode v : top) most = Math.max(most, v.asDouble());
                assertEquals(logSoftmax[best], most, 1e-3, "token " + i);
                assertEquals(offset, lp.get("text_offset").get(i).asInt());
                offset += token.length();
                logits = t.forward(new int[]{best}, cache, false);
            }
        }
    }

    private static double[] logSoftmax(float[] l) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : l) max = Math.max(max, v);
        for (float v : l) sum += Math.exp(v - max);
        double[] out = new double[l.length];
        for (int i = 0; i < l.length; i++) out[i] = l[i] - max - Math.log(sum);
        return out;
    }

    @Test
    void chatLogprobsListTokensWithBytesAndSortedAlternatives() throws Exception {
        ErrorsTest.Reply r = post("/chat/completions", chat(",\"max_tokens\":12,\"temperature\":0.9,\"seed\":4,\"logprobs\":true,\"top_logprobs\":3"));
        assertEquals(200, r.status(), r.body().toString());
        JsonNode content = r.body().at("/choices/0/logprobs/content");
        assertTrue(content.size() > 0, r.body().toString());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (JsonNode e : content) {
            assertTrue(e.get("logprob").asDouble() <= 0, e.toString());
            JsonNode top = e.get("top_logprobs");
            assertEquals(3, top.size(), e.toString());
            for (int i = 1; i < top.size(); i++) assertTrue(top.get(i).get("logprob").asDouble() <= top.get(i - 1).get("logprob").asDouble(), top.toString());
            assertTrue(e.get("logprob").asDouble() <= top.get(0).get("logprob").asDouble() + 1e-9, e.toString());
            for (JsonNode b : e.get("bytes")) bytes.write(b.asInt());
        }
        String text = r.body().at("/choices/0/message/content").asText();
        assertEquals(text, bytes.toString(StandardCharsets.UTF_8).substring(0, text.length()), "the tokens' bytes spell the text");
        ErrorsTest.Reply off = post("/chat/completions", chat(",\"max_tokens\":2"));
        assertTrue(off.body().at("/choices/0/logprobs").isNull());
    }

    @Test
    void nChoicesAreSeparateSequencesAndReproducibleWithASeed() throws Exception {
        String body = chat(",\"max_tokens\":16,\"temperature\":1.0,\"seed\":7,\"n\":3");
        ErrorsTest.Reply a = post("/chat/completions", body), b = post("/chat/completions", body);
        assertEquals(200, a.status(), a.body().toString());
        assertEquals(3, a.body().get("choices").size());
        int completionTokens = 0;
        for (int i = 0; i < 3; i++) {
            assertEquals(i, a.body().at("/choices/" + i + "/index").asInt());
            assertEquals(a.body().at("/choices/" + i + "/message/content"), b.body().at("/choices/" + i + "/message/content"), "choice " + i);
        }
        completionTokens = a.body().at("/usage/completion_tokens").asInt();
        assertTrue(completionTokens >= 3, a.body().toString());
        assertNotEquals(a.body().at("/choices/0/message/content"), a.body().at("/choices/1/message/content"), "choices differ");
        ErrorsTest.Reply one = post("/chat/completions", chat(",\"max_tokens\":16,\"temperature\":1.0,\"seed\":7"));
        assertEquals(a.body().at("/choices/0/message/content"), one.body().at("/choices/0/message/content"), "choice 0 is what n = 1 gives");
        // Streamed, each choice's deltas add up to the same text.
        String streamBody = chat(",\"max_tokens\":16,\"temperature\":1.0,\"seed\":7,\"n\":3,\"stream\":true,\"logprobs\":true");
        List<JsonNode> events = SseEvents.events(s, "/chat/completions", streamBody);
        for (int i = 0; i < 3; i++) {
            assertEquals(a.body().at("/choices/" + i + "/message/content").asText(), SseEvents.text(events, i));
        }
        assertTrue(events.stream().anyMatch(e -> e.at("/choices/0/logprobs/content").isArray()), "streamed chunks carry logprobs");
    }

    @Test
    void logitBiasForcesAndPresencePenaltyIsApplied() throws Exception {
        int id;
        try (Model m = Model.load(TestServer.refs("qwen2moe-tiny"))) {
            int[] ids = m.tokenizer().encode("z", false);
            assertEquals(1, ids.length);
            id = ids[0];
        }
        ErrorsTest.Reply r = post("/completions", completion(",\"max_tokens\":6,\"temperature\":1,\"seed\":1,\"logit_bias\":{\"" + id + "\":100}"));
        assertEquals("zzzzzz", r.body().at("/choices/0/text").asText(), r.body().toString());
        // Greedy with a bias of 30 picks z; penalties of 2 + 2 per use take that lead away within 30 tokens.
        String biased = ",\"max_tokens\":30,\"temperature\":0,\"logit_bias\":{\"" + id + "\":30}";
        String plain = post("/completions", completion(biased)).body().at("/choices/0/text").asText();
        assertEquals("z".repeat(30), plain);
        String penalised = post("/completions", completion(biased + ",\"presence_penalty\":2,\"frequency_penalty\":2")).body().at("/choices/0/text").asText();
        assertTrue(penalised.startsWith("zzzz"), penalised);
        assertTrue(penalised.chars().filter(c -> c == 'z').count() < 30, penalised);
    }

    @Test
    void everyRequestFieldIsImplementedHarmlessOrRefusedByName() throws Exception {
        for (String ok : List.of(",\"user\":\"u1\"", ",\"store\":false", ",\"metadata\":{\"k\":\"v\"}", ",\"parallel_tool_calls\":true",
                ",\"service_tier\":\"auto\"", ",\"modalities\":[\"text\"]", ",\"top_k\":5,\"min_p\":0.1,\"repetition_penalty\":1.2")) {
            ErrorsTest.Reply r = post("/chat/completions", chat(",\"max_tokens\":2" + ok));
            assertEquals(200, r.status(), ok + " → " + r.body());
        }
        String[][] refused = {
                {"/chat/completions", ",\"audio\":{\"voice\":\"alloy\"}", "audio"},
                {"/chat/completions", ",\"modalities\":[\"text\",\"audio\"]", "modalities"},
                {"/chat/completions", ",\"prediction\":{\"type\":\"content\",\"content\":\"x\"}", "prediction"},
                {"/chat/completions", ",\"web_search_options\":{}", "web_search_options"},
                {"/chat/completions", ",\"frobnicate\":1", "frobnicate"},
                {"/chat/completions", ",\"top_logprobs\":3", "top_logprobs"},
                {"/chat/completions", ",\"logprobs\":true,\"top_logprobs\":21", "top_logprobs"},
                {"/chat/completions", ",\"n\":0", "n"},
                {"/chat/completions", ",\"n\":13", "n"},
                {"/chat/completions", ",\"presence_penalty\":2.5", "presence_penalty"},
                {"/chat/completions", ",\"frequency_penalty\":\"high\"", "frequency_penalty"},
                {"/chat/completions", ",\"logit_bias\":{\"600\":1}", "logit_bias"},
                {"/chat/completions", ",\"logit_bias\":{\"abc\":1}", "logit_bias"},
                {"/chat/completions", ",\"logit_bias\":{\"5\":101}", "logit_bias"},
                {"/completions", ",\"echo\":true", "echo"},
                {"/completions", ",\"suffix\":\"end\"", "suffix"},
                {"/completions", ",\"best_of\":3", "best_of"},
                {"/completions", ",\"logprobs\":6", "logprobs"},
                {"/completions", ",\"messages\":[]", "messages"}};
        for (String[] c : refused) {
            ErrorsTest.Reply r = post(c[0], c[0].startsWith("/chat") ? chat(c[1]) : completion(c[1]));
            assertEquals(400, r.status(), c[1] + " → " + r.body());
            assertEquals(c[2], r.body().at("/error/param").asText(), r.body().toString());
            assertTrue(r.body().at("/error/message").asText().contains(c[2]), r.body().toString());
        }
        assertEquals(200, post("/completions", completion(",\"max_tokens\":1,\"echo\":false,\"best_of\":1,\"suffix\":null")).status());
    }
}
