package dev.moe4j.format;

import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.safetensors.SafetensorsStore;
import dev.moe4j.kernel.Dequant;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Reads the shared reference checkpoints (when present) in every format and cross-checks them. */
class RefsTest {

    /** {@code shared/refs}, found by walking up from the working directory; skips the test when absent. */
    static Path refs() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path r = d.resolve("shared").resolve("refs");
            if (Files.isDirectory(r)) return r;
        }
        Assumptions.assumeTrue(false, "no shared/refs folder above " + Path.of("").toAbsolutePath() + "; skipping reference-file tests");
        return null;
    }

    static List<Path> models(Path refs) throws IOException {
        try (Stream<Path> s = Files.list(refs)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    static float[] floats(Tensor t) {
        float[] out = new float[Math.toIntExact(t.elementCount())];
        Dequant.dequantize(t.dtype(), t.data(), 0, out, 0, out.length);
        return out;
    }

    @Test
    void ggufMatchesSafetensors() throws IOException {
        Path refs = refs();
        int checked = 0;
        for (Path m : models(refs)) {
            Path f32 = m.resolve("model-f32.gguf"), q8 = m.resolve("model-q8_0.gguf");
            if (!Files.exists(f32)) continue;
            try (GgufFile g = GgufFile.open(f32); SafetensorsStore st = SafetensorsStore.open(m)) {
                assertFalse(g.architecture().isEmpty());
                assertFalse(g.names().isEmpty());
                boolean bf16 = m.getFileName().toString().endsWith("bf16");
                for (var pair : Map.of("token_embd.weight", "model.embed_tokens.weight",
                        "output_norm.weight", "model.norm.weight").entrySet()) {
                    Tensor a = g.tensor(pair.getKey()), b = st.tensor(pair.getValue());
                    assertArrayEquals(b.shape(), a.shape(), m + " " + pair);
                    assertEquals(bf16 ? DType.BF16 : DType.F32, b.dtype());
                    // f32 GGUF of bf16 weights holds the widened values exactly, so equality holds for both.
                    assertArrayEquals(floats(b), floats(a), m + " " + pair);
                }
                for (Tensor t : g.tensors()) { // every tensor readable and finite
                    if (t.dtype() == DType.F32 || t.dtype() == DType.F16)
                        for (float v : floats(t)) assertTrue(Float.isFinite(v), t.name());
                }
                checked++;
            }
            if (Files.exists(q8)) {
                try (GgufFile g = GgufFile.open(f32); GgufFile q = GgufFile.open(q8)) {
                    assertEquals(g.names(), q.names());
                    int quantised = 0;
                    for (Tensor t : g.tensors()) {
                        Tensor u = q.tensor(t.name());
                        assertArrayEquals(t.shape(), u.shape(), t.name());
                        float[] a = floats(t), b = floats(u);
                        double amax = 0;
                        for (float v : a) amax = Math.max(amax, Math.abs(v));
                        if (u.dtype() == DType.Q8_0) quantised++;
                        // Q8_0 error is at most half a step of the block's amax/127 (plus f16 scale rounding).
                        for (int i = 0; i < a.length; i++)
                            assertEquals(a[i], b[i], amax / 127 * 0.51 + 1e-6, t.name() + "[" + i + "] " + u.dtype());
                    }
                    assertTrue(quantised > 0, q8 + " has no Q8_0 tensors");
                }
            }
        }
        assertTrue(checked > 0, "no model-f32.gguf under " + refs);
    }

    @Test
    void q8_0QuantizerMatchesConverterBitForBit() throws IOException {
        Path refs = refs();
        long blocks = 0;
        for (Path m : models(refs)) {
            Path f32 = m.resolve("model-f32.gguf"), q8 = m.resolve("model-q8_0.gguf");
            if (!Files.exists(f32) || !Files.exists(q8)) continue;
            try (GgufFile g = GgufFile.open(f32); GgufFile q = GgufFile.open(q8)) {
                for (Tensor u : q.tensors()) {
                    if (u.dtype() != DType.Q8_0) continue;
                    float[] src = floats(g.tensor(u.name()));
                    byte[] mine = dev.moe4j.kernel.Quantize.encode(DType.Q8_0, src);
                    assertArrayEquals(u.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), mine, m + " " + u.name());
                    blocks += src.length / 32;
                }
            }
        }
        Assumptions.assumeTrue(blocks > 0, "no q8_0 reference files");
    }

    @Test
    void everySafetensorsCheckpointOpens() throws IOException {
        Path refs = refs();
        List<String> seen = new ArrayList<>();
        for (Path m : models(refs)) {
            try (SafetensorsStore st = SafetensorsStore.open(m)) {
                assertFalse(st.names().isEmpty());
                Tensor t = st.tensor("model.embed_tokens.weight");
                assertEquals(2, t.rank());
                seen.add(m.getFileName().toString());
            }
            if (Files.exists(m.resolve("reference.safetensors"))) {
                try (SafetensorsStore r = SafetensorsStore.open(m.resolve("reference.safetensors"))) {
                    assertEquals(DType.I64, r.tensor("prompt0.ids").dtype());
                    assertEquals(DType.F32, r.tensor("prompt0.logits").dtype());
                }
            }
        }
        assertTrue(seen.contains("olmoe-tiny-bf16") || !Files.exists(refs.resolve("olmoe-tiny-bf16")), seen.toString());
    }
}
