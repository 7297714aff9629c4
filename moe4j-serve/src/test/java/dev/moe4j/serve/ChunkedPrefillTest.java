package dev.moe4j.serve;

import dev.moe4j.generate.Generator;
import dev.moe4j.generate.SamplerSettings;
import dev.moe4j.model.Model;
import dev.moe4j.tokenizer.TokenDecoder;
import dev.moe4j.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Prompts prefilled a few tokens per step, beside a sequence that is decoding, give the unchunked output. */
class ChunkedPrefillTest {
    @Test
    void chunkedPrefillGivesTheSameGreedyText() throws Exception {
        try (Model model = Model.load(TestServer.refs("qwen2moe-tiny"))) {
            Tokenizer tok = model.tokenizer();
            Set<Integer> stop = Set.of(tok.eosId());
            String[] prompts = {"Return a new list containing all items from the iterable in ascending order.", "def add(a, b):"};
            try (Engine engine = new Engine(model, new Metrics(model.config().layers(), model.config().experts()), 4, 4, 0, 3)) {
                Sequence[] seqs = new Sequence[prompts.length];
                for (int i = 0; i < prompts.length; i++) {
                    seqs[i] = new Sequence(tok.encode(prompts[i], true), 10, SamplerSettings.greedy(), stop, List.of());
                    engine.submit(seqs[i]);
                }
                for (int i = 0; i < prompts.length; i++) {
                    assertEquals(expected(model, tok.encode(prompts[i], true), stop), collect(seqs[i]), "prompt " + i);
                }
            }
        }
    }

    private static String expected(Model model, int[] prompt, Set<Integer> stop) {
        Generator.Result r = new Generator(model.transformer()).generate(prompt, 10, SamplerSettings.greedy(), stop, null);
        TokenDecoder d = model.tokenizer().streamingDecoder();
        StringBuilder b = new StringBuilder();
        for (int id : r.tokens()) if (!stop.contains(id)) b.append(d.next(id));
        return b.append(d.flush()).toString();
    }

    private static String collect(Sequence s) throws InterruptedException {
        StringBuilder b = new StringBuilder();
        while (true) {
            Sequence.Event e = s.next(20_000);
            if (e instanceof Sequence.Text t) b.append(t.text());
            else {
                assertInstanceOf(Sequence.Done.class, e, "sequence ended with " + e);
                return b.toString();
            }
        }
    }
}
