package dev.moe4j.cli;

import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.model.Model;
import dev.moe4j.tensor.DType;
import dev.moe4j.util.Units;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** quantize on the command line: a synth f16 file to every type, and one-line errors with exit code 2. */
class QuantizeCommandTest {
    @TempDir Path dir;

    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    private Path synthF16() {
        Path f = dir.resolve("tiny-f16.gguf");
        assertEquals(0, run("synth", "--shape", "tiny", "--out", f.toString(), "--type", "f16").code());
        return f;
    }

    @Test
    void f16GgufToEveryType() throws Exception {
        Path in = synthF16();
        for (String type : new String[] {"q8_0", "q4_0", "q4_k", "q6_k", "q4_1", "q5_0", "q5_1", "q5_k"}) {
            Path out = dir.resolve("tiny-" + type + ".gguf");
            Result r = run("quantize", "--model", in.toString(), "--out", out.toString(), "--type", type);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains("wrote " + out + " (" + Units.bytes(Files.size(out)) + "; "), r.err());
            // The progress bar counts in the unit of the total (MiB for these small files), not 0.00/0.00 GiB.
            assertTrue(r.err().matches("(?s).*100% (\\d+\\.\\d+)/\\1 MiB.*"), r.err());
            try (GgufFile g = GgufFile.open(out)) {
                assertEquals(DType.valueOf(type.toUpperCase()), g.tensor("blk.0.attn_q.weight").dtype(), type);
                assertEquals(DType.F32, g.tensor("blk.0.ffn_gate_inp.weight").dtype());
            }
            try (Model m = Model.load(out)) {
                float[] logits = m.transformer().forward(m.tokenizer().encode("hello", false), m.transformer().newCache(8), false);
                for (float v : logits) assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void llamaQuantizeMixesChooseATypePerTensor() throws Exception {
        Path in = synthF16();
        for (String mix : new String[] {"q4_k_m", "q5_k_m"}) {
            Path out = dir.resolve("tiny-" + mix + ".gguf");
            Result r = run("quantize", "--model", in.toString(), "--out", out.toString(), "--type", mix);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains("quantize " + mix), r.err());
            DType base = mix.equals("q4_k_m") ? DType.Q4_K : DType.Q5_K;
            try (GgufFile g = GgufFile.open(out)) {
                assertEquals(mix.equals("q4_k_m") ? 15L : 17L, ((Number) g.metadata().get("general.file_type")).longValue());
                assertEquals(base, g.tensor("blk.0.attn_q.weight").dtype(), mix);
                // The last layer is always among llama.cpp's use_more_bits layers (the first ones only from 8 layers on).
                long layers = g.tensors().stream().filter(t -> t.name().endsWith("ffn_down_exps.weight")).count();
                assertEquals(DType.Q6_K, g.tensor("blk." + (layers - 1) + ".ffn_down_exps.weight").dtype(), mix + ": last layer's experts' down");
                assertEquals(DType.F32, g.tensor("blk.0.ffn_gate_inp.weight").dtype());
            }
            try (Model m = Model.load(out)) {
                float[] logits = m.transformer().forward(m.tokenizer().encode("hello", false), m.transformer().newCache(8), false);
                for (float v : logits) assertTrue(Float.isFinite(v));
            }
        }
        Result r = run("quantize", "--model", in.toString(), "--out", dir.resolve("b.gguf").toString(), "--type", "q3_k_m");
        assertTrue(r.err().contains("q4_k_m, q5_k_m"), "the error lists the mixes: " + r.err());
    }

    @Test
    void badInputsExitTwoWithOneLine() throws Exception {
        Path in = synthF16();
        Path q8 = dir.resolve("q8.gguf");
        assertEquals(0, run("quantize", "--model", in.toString(), "--out", q8.toString(), "--type", "q8_0").code());
        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "not a model");
        String[][] cases = {
                {"quantize", "--model", in.toString(), "--out", dir.resolve("a.gguf").toString(), "--type", "iq4_xs"},
                {"quantize", "--model", in.toString(), "--out", dir.resolve("a.gguf").toString(), "--type", "q3_k_m"},
                {"quantize", "--model", in.toString(), "--out", dir.resolve("a.gguf").toString(), "--type", "q2_k"},
                {"quantize", "--model", q8.toString(), "--out", dir.resolve("a.gguf").toString(), "--type", "q4_0"},
                {"quantize", "--model", dir.resolve("missing").toString(), "--out", dir.resolve("a.gguf").toString(), "--type", "q4_0"},
                {"quantize", "--model", junk.toString(), "--out", dir.resolve("a.gguf").toString(), "--type", "q4_0"},
                {"quantize", "--model", in.toString(), "--out", in.toString(), "--type", "q4_0"},
        };
        for (String[] c : cases) {
            Result r = run(c);
            assertEquals(2, r.code(), String.join(" ", c) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("moe4j: error: "), r.err());
        }
        assertFalse(Files.exists(dir.resolve("a.gguf")), "no output on failure");
    }
}
