package dev.moe4j.tokenizer;

import dev.moe4j.RefsLocator;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.tensor.DType;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The vocab written into converted GGUFs is padded to the model's embedding rows and tokenizes the same. */
class GgufVocabExportTest {
    @TempDir Path tmp;

    @Test
    void padsToTheModelVocabularyWithUnusedTokens() {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "skipped: ../shared/refs is absent");
        for (String name : new String[] {"qwen2moe-tiny", "mixtral-tiny"}) {
            Path dir = refs.resolve(name);
            Tokenizer hf = Tokenizers.fromHuggingFaceFolder(dir);
            int rows = hf.vocabSize() + 40;
            GgufWriter w = new GgufWriter();
            GgufVocabExport.write(dir, w, rows);
            w.putString("general.architecture", "test");
            w.addTensor("x", DType.F32, new long[] {1}, new float[] {0f});
            Path f = tmp.resolve(name + ".gguf");
            w.write(f);
            try (GgufFile g = GgufFile.open(f)) {
                List<Object> tokens = g.getArray("tokenizer.ggml.tokens");
                List<Object> types = g.getArray("tokenizer.ggml.token_type");
                assertEquals(rows, tokens.size(), name);
                assertEquals("[PAD" + (rows - 1) + "]", tokens.get(rows - 1), name);
                assertEquals(5L, ((Number) types.get(rows - 1)).longValue(), name + ": padding is 'unused'");
                Tokenizer back = Tokenizers.fromGgufMetadata(g.metadata(), f.toString());
                String text = "Hello world, café 🙂 12345";
                assertArrayEquals(hf.encode(text, true), back.encode(text, true), name);
            }
            assertThrows(Moe4jException.class, () -> GgufVocabExport.write(dir, new GgufWriter(), hf.vocabSize() - 1),
                    "more tokens than embedding rows is an error");
        }
    }
}
