package dev.moe4j.tokenizer;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * moe4j's tokenizers against Hugging Face's {@code tokenizers} library on the same {@code tokenizer.json}: the
 * real published files (Qwen3, DeepSeek-V3, gpt-oss/o200k, Llama-2 SentencePiece, Llama-3) and the reference
 * checkpoints'. For every hard string: ids without and with the post-processor's specials, and the decoded text
 * with and without special tokens; for seeded random id sequences (specials, byte tokens, any token): both
 * decodes, and that streaming decode emits exactly the one-shot text.
 */
class HfOracleTest {
    private static final int RANDOM_STRINGS = 200;
    private static final int RANDOM_ID_SEQUENCES = 200;

    @TestFactory
    List<DynamicTest> realTokenizers() {
        return HfOracle.realTokenizerFiles().stream()
                .map(f -> DynamicTest.dynamicTest(HfOracle.name(f), () -> compare(f, RANDOM_STRINGS))).toList();
    }

    @TestFactory
    List<DynamicTest> referenceTokenizers() {
        return HfOracle.referenceTokenizerFiles().stream()
                .map(f -> DynamicTest.dynamicTest(HfOracle.name(f), () -> compare(f, RANDOM_STRINGS))).toList();
    }

    /** Compares on the fixed hard strings, {@code randomStrings} random ones and random id sequences. */
    static void compare(Path file, int randomStrings) {
        Tokenizer ours = Tokenizers.fromTokenizerJson(file, null);
        List<String> failures = new ArrayList<>();
        int checks = 0;
        try (HfOracle hf = new HfOracle(file)) {
            for (String text : HardStrings.corpus(file.toString().length(), randomStrings)) {
                for (boolean special : new boolean[] {false, true}) {
                    int[] want = hf.encode(text, special);
                    int[] got = ours.encode(text, special);
                    checks++;
                    if (!Arrays.equals(want, got)) {
                        failures.add("encode" + (special ? "+specials " : " ") + show(text) + ": hf " + Arrays.toString(want)
                                + " moe4j " + Arrays.toString(got));
                        continue;
                    }
                    checks += checkDecode(ours, hf, want, failures);
                }
            }
            Random r = new Random(7);
            for (int i = 0; i < RANDOM_ID_SEQUENCES; i++) {
                checks += checkDecode(ours, hf, randomIds(ours, r, 1 + r.nextInt(24)), failures);
            }
        }
        System.out.printf("HfOracleTest %s: %d checks, %d differ from Hugging Face tokenizers%n", HfOracle.name(file),
                checks, failures.size());
        assertTrue(failures.isEmpty(), failures.size() + " differences, first: " + String.join("\n", failures.subList(0,
                Math.min(8, failures.size()))));
    }

    /** Both decodes against the oracle, and both streaming decodes against the one-shot ones; returns checks made. */
    private static int checkDecode(Tokenizer ours, HfOracle hf, int[] ids, List<String> failures) {
        for (boolean skip : new boolean[] {false, true}) {
            String want = hf.decode(ids, skip);
            String got = ours.decode(ids, skip);
            if (!want.equals(got)) {
                failures.add("decode" + (skip ? "(skip special) " : " ") + Arrays.toString(ids) + ": hf " + show(want)
                        + " moe4j " + show(got));
            }
            String streamed = StreamingDecoderTest.stream(ours.streamingDecoder(skip), ids);
            if (!streamed.equals(got)) {
                failures.add("stream" + (skip ? "(skip special) " : " ") + Arrays.toString(ids) + ": one-shot "
                        + show(got) + " streamed " + show(streamed));
            }
        }
        return 4;
    }

    /** Ids mixing any token, special/added tokens, byte tokens and repeats. */
    static int[] randomIds(Tokenizer t, Random r, int n) {
        List<Integer> specials = new ArrayList<>(t.specialTokens().values());
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            int id;
            do {
                int kind = r.nextInt(10);
                if (kind < 2 && !specials.isEmpty()) id = specials.get(r.nextInt(specials.size()));
                else if (kind < 5) id = r.nextInt(Math.min(t.vocabSize(), 300));  // byte tokens and short pieces
                else if (kind < 6 && i > 0) id = ids[i - 1];
                else id = r.nextInt(t.vocabSize());
            } while (!valid(t, id));
            ids[i] = id;
        }
        return ids;
    }

    private static boolean valid(Tokenizer t, int id) {
        try {
            t.tokenText(id);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    static String show(String s) {
        StringBuilder sb = new StringBuilder("'");
        s.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || Character.getType(c) == Character.FORMAT) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.append("'").toString();
    }
}
