package dev.moe4j.bench;

import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.tokenizer.Tokenizers;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Tokenizer speed in CPU time of the calling thread (steady on a shared machine): loading a
 * {@code tokenizer.json}, encoding a 1 MB text (seeded mixture of English prose, source code, digits, whitespace
 * runs, and CJK, Cyrillic, Arabic text and emoji in one paragraph of ten; one word in four is random letters, as
 * rare words and identifiers are, so that word caches do not hold the whole text), and decoding its ids. Uses only the
 * public tokenizer API, so it runs against another build's jar put first on the class path:
 *
 * <pre>mvn -q -Pbench -pl moe4j-bench -am compile
 * java -cp OTHER.jar:moe4j-bench/target/classes dev.moe4j.bench.TokenizerCpuTime tokenizer.json...</pre>
 *
 * Prints, per file: load ms, then encode and decode ms of the whole text and MB/s, each the median of 7 runs
 * after 3 warm-up runs.
 */
public final class TokenizerCpuTime {
    private static final int WARMUP = 3, RUNS = 7;
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private TokenizerCpuTime() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: TokenizerCpuTime tokenizer.json...");
            System.exit(2);
        }
        String text = text(1 << 20);
        double mb = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
        for (String file : args) {
            long t0 = CPU.getCurrentThreadCpuTime();
            Tokenizer tok = Tokenizers.fromTokenizerJson(Path.of(file), null);
            double loadMs = (CPU.getCurrentThreadCpuTime() - t0) / 1e6;
            int[] ids = tok.encode(text, false);
            double encode = median(() -> tok.encode(text, false));
            double decode = median(() -> tok.decode(ids));
            System.out.printf("%s: load %.0f ms; %.2f MB -> %d ids; encode %.0f ms (%.2f MB/s); decode %.0f ms (%.1f MB/s)%n",
                    file, loadMs, mb, ids.length, encode, mb / (encode / 1e3), decode, mb / (decode / 1e3));
        }
    }

    private static double median(Runnable r) {
        double[] ms = new double[RUNS];
        for (int i = 0; i < WARMUP; i++) r.run();
        for (int i = 0; i < RUNS; i++) {
            long t0 = CPU.getCurrentThreadCpuTime();
            r.run();
            ms[i] = (CPU.getCurrentThreadCpuTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[RUNS / 2];
    }

    private static final String[] WORDS = ("the of and to in a is that for it as was with be by on not he this are or his "
            + "from at which but have an they you were her she there been one all we their has would when if so no "
            + "time people model expert routing token layer weight matrix quantised inference training batch").split(" ");
    private static final String[] CODE = {"def f(x, y):\n    return x ** 2 + y  # square\n",
            "for (int i = 0; i < n; i++) {\n\tsum += a[i] * b[i];\n}\n", "{\"id\": 1234, \"name\": \"moe4j\", \"ok\": true}\n",
            "if err != nil {\n        return nil, fmt.Errorf(\"read %s: %w\", path, err)\n}\n"};
    private static final String[] OTHER = {"東京は日本の首都です。", "Москва — столица России. ", "مرحبا بالعالم ",
            "🙂👍🏽👨‍👩‍👧 ", "한국어 문장입니다. ", "naïve café résumé "};

    /** A letter string of 3–12 letters: a rare word, name or identifier, so word caches do not hold everything. */
    private static String randomWord(SplittableRandom r) {
        char[] w = new char[3 + r.nextInt(10)];
        for (int i = 0; i < w.length; i++) w[i] = (char) ('a' + r.nextInt(26));
        return new String(w);
    }

    /** About {@code bytes} bytes of UTF-8 text, the same for every build (seeded). */
    static String text(int bytes) {
        SplittableRandom r = new SplittableRandom(1);
        StringBuilder sb = new StringBuilder(bytes);
        while (sb.length() < bytes) {
            int kind = r.nextInt(10);
            if (kind < 6) {
                int n = 20 + r.nextInt(60);
                for (int i = 0; i < n; i++) {
                    String w = r.nextInt(4) == 0 ? randomWord(r) : WORDS[r.nextInt(WORDS.length)];
                    sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w);
                    sb.append(r.nextInt(12) == 0 ? ", " : " ");
                }
                sb.append(r.nextInt(1000)).append(".\n\n");
            } else if (kind < 8) {
                sb.append(CODE[r.nextInt(CODE.length)]);
            } else if (kind < 9) {
                for (int i = 0; i < 5; i++) sb.append(OTHER[r.nextInt(OTHER.length)]);
                sb.append('\n');
            } else {
                sb.append(" ".repeat(1 + r.nextInt(8))).append(r.nextLong(1L << 40)).append("\t\t").append('\n');
            }
        }
        return sb.toString();
    }
}
