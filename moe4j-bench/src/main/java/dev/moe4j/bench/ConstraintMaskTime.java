package dev.moe4j.bench;

import dev.moe4j.constrain.Grammar;
import dev.moe4j.constrain.JsonSchemaGrammar;
import dev.moe4j.constrain.TokenConstraint;
import dev.moe4j.constrain.TokenTrie;
import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.tokenizer.Tokenizers;
import dev.moe4j.util.Json;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What constrained decoding costs per token: the time of {@link TokenConstraint#mask} (grammar walk over the
 * tokenizer's trie plus masking the logits row) and {@link TokenConstraint#accept}, over generations from random
 * logits (a random-weight model), in this thread's CPU time.
 *
 * <pre>mvn -q -Pbench -pl moe4j-bench -am compile
 * java -cp moe4j-core/target/classes:moe4j-bench/target/classes dev.moe4j.bench.ConstraintMaskTime TOKENIZER.json [SCHEMA.json]</pre>
 *
 * Prints the trie's size and the time to build it, then CPU ms per token: the first generation (the automaton's
 * transitions being filled in) and the median over later ones. Without SCHEMA, a schema with a string, an
 * integer range, an enum array and a nested object.
 */
public final class ConstraintMaskTime {
    private static final String DEFAULT_SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},
             "tags":{"type":"array","items":{"enum":["red","green","blue"]}},
             "address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},
               "required":["city","zip"],"additionalProperties":false}},
             "required":["name","age","tags","address"],"additionalProperties":false}""";

    private ConstraintMaskTime() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: ConstraintMaskTime TOKENIZER.json [SCHEMA.json]");
            System.exit(2);
        }
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        Tokenizer tok = Tokenizers.fromTokenizerJson(Path.of(args[0]), Map.of());
        long t0 = cpu.getCurrentThreadCpuTime();
        TokenTrie trie = TokenTrie.of(tok);
        long t1 = cpu.getCurrentThreadCpuTime();
        System.out.printf("vocabulary %d tokens, trie %d nodes, built in %.0f ms CPU%n", trie.vocabSize(), trie.nodes(), (t1 - t0) / 1e6);
        String schema = args.length > 1 ? java.nio.file.Files.readString(Path.of(args[1])) : DEFAULT_SCHEMA;
        Grammar g = JsonSchemaGrammar.schema(Json.parse(schema));
        int[] end = tok.eosId() >= 0 ? new int[]{tok.eosId()} : new int[0];
        SplittableRandom r = new SplittableRandom(1);
        float[] logits = new float[tok.vocabSize()];
        int runs = 12, maxTokens = 80;
        double[] msPerToken = new double[runs];
        for (int run = 0; run < runs; run++) {
            TokenConstraint c = new TokenConstraint(g, trie, end);
            long spent = 0;
            int tokens = 0;
            for (int step = 0; step < maxTokens && !c.finished(); step++) {
                for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
                long a = cpu.getCurrentThreadCpuTime();
                c.mask(logits, 0, logits.length, maxTokens - step - 1);
                int best = 0;
                for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
                c.accept(best);
                spent += cpu.getCurrentThreadCpuTime() - a;
                tokens++;
                final int chosen = best;
                if (Arrays.stream(end).anyMatch(e -> e == chosen)) break;
            }
            msPerToken[run] = spent / 1e6 / tokens;
            System.out.printf("run %2d: %d tokens, %.2f ms/token, %d grammar states%n", run, tokens, msPerToken[run], c.statesSeen());
        }
        double[] later = Arrays.copyOfRange(msPerToken, 1, runs);
        Arrays.sort(later);
        System.out.printf("first generation %.2f ms/token; later ones median %.2f ms/token (CPU time, one thread)%n",
                msPerToken[0], later[later.length / 2]);
    }
}
