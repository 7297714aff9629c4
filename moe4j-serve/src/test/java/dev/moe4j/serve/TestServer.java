package dev.moe4j.serve;

import dev.moe4j.generate.ChatTemplate;
import dev.moe4j.generate.Generator;
import dev.moe4j.generate.SamplerSettings;
import dev.moe4j.model.Model;
import dev.moe4j.tokenizer.TokenDecoder;
import dev.moe4j.tokenizer.Tokenizer;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A real server on a free loopback port over a reference checkpoint, and what `moe4j generate` would print,
 * computed on a second copy of the model so that the test never shares the server's.
 */
final class TestServer implements AutoCloseable {
    final OpenAiServer server;
    final String id;
    private final Model served;
    private final Model model;

    private TestServer(Model served, OpenAiServer server, String id, Path dir) {
        this.served = served;
        this.server = server;
        this.id = id;
        this.model = Model.load(dir);
    }

    static TestServer start(String refName, String apiKey, int maxConcurrent, int maxQueue, long stepPauseMillis) {
        return start(refName, new ServerOptions("127.0.0.1", 0, apiKey, maxConcurrent, maxQueue, refName, stepPauseMillis));
    }

    /** A server with these options (host and model id as given there) over the reference checkpoint {@code refName}. */
    static TestServer start(String refName, ServerOptions options) {
        Path dir = refs(refName);
        Model m = Model.load(dir);
        try {
            return new TestServer(m, OpenAiServer.start(m, options), options.modelId(), dir);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    static Path refs(String name) {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("shared").resolve("refs"))) p = p.getParent();
        if (p == null) System.out.println("SKIPPING server tests: no shared/refs found above " + Path.of("").toAbsolutePath());
        Assumptions.assumeTrue(p != null, "shared/refs not found above " + Path.of("").toAbsolutePath() + ": skipped");
        Path dir = p.resolve("shared").resolve("refs").resolve(name);
        Assumptions.assumeTrue(Files.isDirectory(dir), dir + " is absent: skipped");
        return dir;
    }

    String baseUrl() { return "http://127.0.0.1:" + server.port() + "/v1"; }

    /** Greedy text that `moe4j generate --temperature 0` prints for a completion prompt. */
    String greedyCompletion(String prompt, int maxTokens) {
        Tokenizer tok = model.tokenizer();
        return greedy(tok.encode(prompt, true), maxTokens, stopTokens(), null);
    }

    /** Greedy reply the way `moe4j chat --temperature 0` computes it for this conversation. */
    String greedyChat(List<ChatTemplate.Message> messages, int maxTokens) {
        Tokenizer tok = model.tokenizer();
        ChatTemplate t = ChatTemplate.detect(model.chatTemplate());
        String bos = tok.bosId() >= 0 ? tok.tokenText(tok.bosId()) : null;
        Set<Integer> stop = stopTokens();
        Integer eot = tok.specialTokens().get(t.endOfTurn());
        if (eot != null) stop.add(eot);
        return greedy(tok.encode(t.render(messages, bos), false), maxTokens, stop, t.endOfTurn());
    }

    private String greedy(int[] prompt, int maxTokens, Set<Integer> stop, String stopText) {
        TokenDecoder dec = model.tokenizer().streamingDecoder();
        StringBuilder out = new StringBuilder();
        new Generator(model.transformer()).generate(prompt, maxTokens, SamplerSettings.greedy(), stop, id -> {
            out.append(dec.next(id));
            return stopText == null || out.indexOf(stopText) < 0;
        });
        out.append(dec.flush());
        int cut = stopText == null ? -1 : out.indexOf(stopText);
        return cut < 0 ? out.toString() : out.substring(0, cut);
    }

    private Set<Integer> stopTokens() {
        Set<Integer> s = new HashSet<>();
        if (model.tokenizer().eosId() >= 0) s.add(model.tokenizer().eosId());
        return s;
    }

    @Override
    public void close() {
        server.close();
        served.close();
        model.close();
    }
}
