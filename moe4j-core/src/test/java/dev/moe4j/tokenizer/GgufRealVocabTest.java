package dev.moe4j.tokenizer;

import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.tensor.DType;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real tokenizers written as GGUF vocab ({@link GgufVocabExport}, as {@code quantize} does) and read back
 * ({@link GgufVocab}) give the ids and text of the tokenizer.json on the hard-string corpus.
 */
class GgufRealVocabTest {
    @TempDir Path tmp;

    @TestFactory
    List<DynamicTest> exportedVocabTokenizesLikeTheJson() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path json : HfOracle.realTokenizerFiles()) {
            tests.add(DynamicTest.dynamicTest(HfOracle.name(json), () -> roundTrip(json)));
        }
        return tests;
    }

    private void roundTrip(Path json) throws Exception {
        String name = HfOracle.name(json);
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(json, dir.resolve("tokenizer.json"));
        Path config = json.resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(config)) Files.copy(config, dir.resolve("tokenizer_config.json"));
        Tokenizer hf = Tokenizers.fromHuggingFaceFolder(dir);
        GgufWriter w = new GgufWriter();
        if (name.equals("tokenizer-llama2")) {
            // SentencePiece in tokenizer.json form only: GGUF's 'llama' vocab needs the .model's scores.
            Moe4jException e = assertThrows(Moe4jException.class, () -> GgufVocabExport.write(dir, w, hf.vocabSize()));
            assertTrue(e.getMessage().contains("tokenizer.json") && !e.getMessage().contains("\n"), e.getMessage());
            return;
        }
        GgufVocabExport.write(dir, w, hf.vocabSize());
        w.putString("general.architecture", "test");
        w.addTensor("x", DType.F32, new long[] {1}, new float[] {0f});
        Path file = tmp.resolve(name + ".gguf");
        w.write(file);
        Tokenizer back;
        try (GgufFile g = GgufFile.open(file)) {
            back = Tokenizers.fromGgufMetadata(g.metadata(), file.toString());
        }
        List<String> failures = new ArrayList<>();
        for (String text : HardStrings.corpus(3, 20)) {
            for (boolean special : new boolean[] {false, true}) {
                int[] want = hf.encode(text, special), got = back.encode(text, special);
                if (!Arrays.equals(want, got)) {
                    failures.add(HfOracleTest.show(text) + (special ? " +specials" : "") + ": json " + Arrays.toString(want)
                            + " gguf " + Arrays.toString(got));
                } else if (!hf.decode(want, false).equals(back.decode(got, false))) {
                    failures.add("decode " + Arrays.toString(want));
                }
            }
        }
        assertEquals(List.of(), failures.subList(0, Math.min(5, failures.size())), failures.size() + " differences");
        assertEquals(hf.bosId(), back.bosId());
        assertEquals(hf.eosId(), back.eosId());
        assertEquals(hf.specialTokens(), back.specialTokens());
    }
}
