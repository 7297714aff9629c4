package dev.moe4j.model.mutation;

import dev.moe4j.RefsLocator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damages the headers and metadata of the reference checkpoints one field at a time (seeded, so every run
 * makes the same mutants) and loads each: every mutant must either be refused with a one-line
 * {@link dev.moe4j.util.Moe4jException} that starts with the checkpoint's path and names the file (and the
 * tensor, key or field), or give the logits of the undamaged checkpoint. Never another exception, an
 * OutOfMemoryError, more than {@link MutantLoader#ALLOCATION_LIMIT} allocated, a hang or different logits.
 *
 * <p>Covered: GGUF (f32 and q8_0 files of four architectures) counts, lengths, value and element types,
 * numeric metadata, and each tensor's name, dimension count, dimensions, type and offset; safetensors (a
 * single file, a shard of the sharded bf16 checkpoint, gpt-oss's fused experts) header length, header bytes
 * and each entry's dtype, shape, offsets and name; the shard index; config.json of six architectures and
 * tokenizer_config.json. Not made: damage to tensor data (no checksum covers it), and changes that give
 * another valid model (an epsilon still in range, a flipped bool, a renamed optional GGUF key), which no
 * check of the header could tell from the original.
 */
class ModelFileMutationTest {
    private static final long SEED = 0x5eed_f11e5L;
    /**
     * Logits "equal" the original's to float rounding: the Vector API sums lanes in another order once C2 has
     * compiled a kernel, so a model run cold and the same model run warm differ in the last bits. A damaged
     * header that changes the model changes logits by orders of magnitude more.
     */
    private static final double SAME = 1e-5;
    /** Shorter than gpt-oss-tiny's sliding window, so a larger window is the same model on this prompt. */
    private static final int[] IDS = {1, 17, 42, 300, 7, 99};

    @TempDir
    Path tmp;

    enum Kind { GGUF, SAFETENSORS, INDEX, CONFIG }

    /** {@code count} mutants of {@code file} in checkpoint {@code folder}, loaded as {@code load} (the file, or "" for the folder). */
    record Case(String folder, String file, Kind kind, String load, int count) {}

    private static final List<Case> CASES = List.of(
            new Case("olmoe-tiny", "model-q8_0.gguf", Kind.GGUF, "model-q8_0.gguf", 80),
            new Case("olmoe-tiny", "model-f32.gguf", Kind.GGUF, "model-f32.gguf", 40),
            new Case("deepseekv3-tiny", "model-q8_0.gguf", Kind.GGUF, "model-q8_0.gguf", 60),
            new Case("qwen2moe-tiny", "model-q8_0.gguf", Kind.GGUF, "model-q8_0.gguf", 40),
            new Case("mixtral-tiny", "model-f32.gguf", Kind.GGUF, "model-f32.gguf", 40),
            new Case("olmoe-tiny", "model.safetensors", Kind.SAFETENSORS, "", 70),
            new Case("gptoss-tiny", "model.safetensors", Kind.SAFETENSORS, "", 40),
            new Case("olmoe-tiny-bf16", "model-00002-of-00004.safetensors", Kind.SAFETENSORS, "", 40),
            new Case("olmoe-tiny-bf16", "model.safetensors.index.json", Kind.INDEX, "", 40),
            new Case("olmoe-tiny", "config.json", Kind.CONFIG, "", 30),
            new Case("qwen3moe-tiny", "config.json", Kind.CONFIG, "", 30),
            new Case("qwen2moe-tiny", "config.json", Kind.CONFIG, "", 30),
            new Case("deepseekv3-tiny", "config.json", Kind.CONFIG, "", 40),
            new Case("gptoss-tiny", "config.json", Kind.CONFIG, "", 30),
            new Case("mixtral-tiny", "config.json", Kind.CONFIG, "", 25),
            new Case("mixtral-tiny", "tokenizer_config.json", Kind.CONFIG, "", 15),
            new Case("olmoe-tiny", "tokenizer_config.json", Kind.CONFIG, "", 15));

    @Test
    void everyMutantIsRefusedWithOneLineOrGivesTheOriginalLogits() throws Exception {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "no shared/refs folder: the mutation test needs the reference checkpoints");
        long start = System.nanoTime();
        Random random = new Random(SEED);
        Map<String, float[]> baselines = new HashMap<>();
        List<String> failures = new ArrayList<>();
        int tried = 0, rejected = 0, equal = 0, counter = 0;
        double worstEqual = 0;
        String longest = "";
        try (MutantLoader loader = new MutantLoader(IDS, 120)) {
            for (Case c : CASES) {
                Path folder = refs.resolve(c.folder());
                String baseKey = c.folder() + "/" + c.load();
                if (!baselines.containsKey(baseKey)) {
                    MutantLoader.Outcome o = loader.load(place(folder, c, tmp.resolve("original-" + counter++), null));
                    if (!(o instanceof MutantLoader.Loaded l)) throw new AssertionError(baseKey + " does not load: " + MutantLoader.describe(o));
                    baselines.put(baseKey, l.logits());
                }
                float[] expected = baselines.get(baseKey);
                List<Mutation> all = mutations(c, Files.readAllBytes(folder.resolve(c.file())), random);
                Collections.shuffle(all, random);
                int caseRejected = 0, caseEqual = 0;
                for (Mutation m : all.subList(0, Math.min(c.count(), all.size()))) {
                    Path dir = tmp.resolve("m" + counter++);
                    Path model = place(folder, c, dir, m);
                    MutantLoader.Outcome o = loader.load(model);
                    tried++;
                    String problem = switch (o) {
                        case MutantLoader.Rejected r -> checkMessage(r.error().getMessage(), dir, c.file());
                        case MutantLoader.Loaded l -> {
                            double err = relativeError(l.logits(), expected);
                            worstEqual = Math.max(worstEqual, err);
                            yield err <= SAME ? null : "loaded with different logits (relative error " + err + ")";
                        }
                        case MutantLoader.Broken b -> b.why();
                    };
                    if (problem != null) failures.add(c.folder() + "/" + m + " -> " + problem
                            + (o instanceof MutantLoader.Rejected r ? " [" + r.error().getMessage() + "]" : ""));
                    else if (o instanceof MutantLoader.Rejected r) {
                        caseRejected++;
                        if (r.error().getMessage().length() > longest.length()) longest = r.error().getMessage();
                    } else caseEqual++;
                    deleteTree(dir);
                }
                rejected += caseRejected;
                equal += caseEqual;
                System.out.printf("mutants of %s/%s: %d rejected, %d equal logits (of %d possible)%n",
                        c.folder(), c.file(), caseRejected, caseEqual, all.size());
            }
        }
        System.out.printf("model-file mutation test: %d mutants tried, %d rejected with a one-line error, %d loaded with the original's"
                + " logits, %d failed (%.1f s)%n", tried, rejected, equal, failures.size(), (System.nanoTime() - start) / 1e9);
        System.out.println("largest relative error of a mutant that loaded: " + worstEqual);
        System.out.println("longest message (" + longest.length() + " chars): " + longest);
        failures.forEach(f -> System.out.println("FAILED: " + f));
        assertTrue(failures.isEmpty(), failures.size() + " of " + tried + " mutants failed, first: " + failures.stream().limit(5).toList());
    }

    static double relativeError(float[] got, float[] want) {
        if (got.length != want.length) return Double.POSITIVE_INFINITY;
        double diff = 0, norm = 0;
        for (int i = 0; i < got.length; i++) {
            diff += (got[i] - (double) want[i]) * (got[i] - (double) want[i]);
            norm += (double) want[i] * want[i];
        }
        double e = Math.sqrt(diff / norm);
        return Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
    }

    private static List<Mutation> mutations(Case c, byte[] bytes, Random random) {
        return new ArrayList<>(switch (c.kind()) {
            case GGUF -> GgufMutations.of(c.file(), bytes, random);
            case SAFETENSORS -> JsonMutations.safetensors(c.file(), bytes, random);
            case INDEX -> JsonMutations.index(c.file(), bytes, random);
            case CONFIG -> JsonMutations.config(c.file(), bytes);
        });
    }

    /**
     * Lays out a copy of the checkpoint in {@code dir}: the mutated file written, the others linked (a GGUF
     * file stands alone); returns what to load.
     */
    private static Path place(Path folder, Case c, Path dir, Mutation m) throws IOException {
        Files.createDirectories(dir);
        if (c.kind() == Kind.GGUF) {
            Path target = dir.resolve(c.file());
            if (m == null) Files.createSymbolicLink(target, folder.resolve(c.file()));
            else Files.write(target, m.content().get());
            return target;
        }
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".gguf")) continue;
                if (m != null && name.equals(m.file())) Files.write(dir.resolve(name), m.content().get());
                else Files.createSymbolicLink(dir.resolve(name), f);
            }
        }
        return c.load().isEmpty() ? dir : dir.resolve(c.load());
    }

    /** Null when the message is one line that starts with the mutant's path and names a file, tensor, key or field. */
    private static String checkMessage(String message, Path dir, String file) {
        if (message == null || message.isBlank()) return "empty message";
        if (message.contains("\n")) return "message of several lines";
        if (!message.startsWith(dir.toString())) return "message does not start with the checkpoint's path";
        if (!message.contains("'") && !message.contains(file)) return "message names neither the file nor a tensor, key or field";
        return null;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
