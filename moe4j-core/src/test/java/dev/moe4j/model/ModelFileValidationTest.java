package dev.moe4j.model;

import dev.moe4j.RefsLocator;
import dev.moe4j.format.safetensors.SafetensorsStore;
import dev.moe4j.format.safetensors.SafetensorsWriter;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Checkpoints whose every header is well-formed but which do not describe the model they claim: a weight of
 * an integer type, half-precision types mixed, a tensor the model never reads, a missing untied output. And
 * the examples on the reference files. Each must be refused with one line naming file and tensor.
 */
class ModelFileValidationTest {
    @TempDir
    Path dir;

    /** One tensor of a checkpoint as stored: the writer gets what the change returns (null drops the tensor). */
    record Stored(String name, DType dtype, long[] shape, byte[] bytes) {}

    /** A small OLMoE checkpoint folder whose tensors pass through {@code change} on their way into model.safetensors. */
    private Path olmoe(String name, UnaryOperator<Stored> change, Stored... extra) throws Exception {
        Path folder = dir.resolve(name);
        new SyntheticModel(Architecture.OLMOE, 40, 16, 1, 2, 2, 8, 4, 2, 8, 0, 1e4, 7).writeHf(folder, false);
        Path file = folder.resolve(SafetensorsStore.SINGLE);
        SafetensorsWriter out = new SafetensorsWriter();
        try (SafetensorsStore in = SafetensorsStore.open(file)) {
            for (String n : in.names()) {
                Tensor t = in.tensor(n);
                Stored s = change.apply(new Stored(n, t.dtype(), t.shape(), t.data().toArray(ValueLayout.JAVA_BYTE)));
                if (s != null) out.addRaw(s.name(), s.dtype(), s.shape(), s.bytes());
            }
        }
        for (Stored s : extra) out.addRaw(s.name(), s.dtype(), s.shape(), s.bytes());
        out.write(file);
        return folder;
    }

    private static void refused(Path model, String message) {
        Moe4jException e = assertThrows(Moe4jException.class, () -> Model.load(model).close());
        assertEquals(message, e.getMessage());
    }

    private static Stored retyped(Stored s, DType type) {
        float[] v = new float[s.bytes().length / 4];
        ByteBuffer.wrap(s.bytes()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return new Stored(s.name(), type, s.shape(), Quantize.encode(type, v));
    }

    @Test
    void theUnchangedCheckpointLoads() throws Exception {
        Model.load(olmoe("plain", s -> s)).close();
    }

    @Test
    void aWeightOfAnIntegerTypeIsRefused() throws Exception {
        String q = "model.layers.0.self_attn.q_proj.weight";
        Path m = olmoe("i32", s -> s.name().equals(q) ? new Stored(q, DType.I32, s.shape(), s.bytes()) : s);
        refused(m, m + ": tensor '" + q + "' is I32; a weight must be one of [F32, F16, Q4_0, Q8_0, Q4_K, Q6_K, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, IQ4_NL, IQ4_XS, BF16, IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ3_S, IQ2_S, IQ1_M, MXFP4, F8_E4M3]");
    }

    @Test
    void halfPrecisionTypesMixedAreRefused() throws Exception {
        // F16 and BF16 take the same bytes: one changed to the other passes every size check.
        Path m = olmoe("mixed", s -> s.name().contains("q_proj") ? retyped(s, DType.F16)
                : s.name().contains("k_proj") ? retyped(s, DType.BF16) : s);
        refused(m, m + ": tensor 'model.layers.0.self_attn.q_proj.weight' is F16 but tensor 'model.layers.0.self_attn.k_proj.weight'"
                + " is BF16: a checkpoint holds one of these types, so one tensor's type is wrong");
        Model.load(olmoe("bf16", s -> s.shape().length == 2 ? retyped(s, DType.BF16) : s)).close();   // one half type with F32: fine
    }

    @Test
    void aTensorTheModelDoesNotReadIsRefused() throws Exception {
        byte[] four = new byte[16];
        Path m = olmoe("unused", s -> s, new Stored("model.layers.0.self_attn.q_proj.bais", DType.F32, new long[] {4}, four));
        refused(m, m + ": tensor 'model.layers.0.self_attn.q_proj.bais' is not part of the model the config describes"
                + " (a misspelt name, or layers, experts or features it does not declare)");
        // A misspelt optional tensor would otherwise vanish silently: OLMoE's q norm is required, but the check is the same.
        m = olmoe("renamed", s -> s.name().endsWith("k_norm.weight") ? new Stored(s.name() + "s", s.dtype(), s.shape(), s.bytes()) : s);
        refused(m, m + ": missing tensor 'model.layers.0.self_attn.k_norm.weight'");
        // What older trainers saved beside the weights may stay.
        Model.load(olmoe("inv-freq", s -> s, new Stored("model.layers.0.self_attn.rotary_emb.inv_freq", DType.F32, new long[] {4}, four))).close();
    }

    @Test
    void anUntiedOutputMustBePresent() throws Exception {
        Path m = olmoe("no-head", s -> s.name().equals("lm_head.weight") ? null : s);
        refused(m, m + ": missing tensor 'lm_head.weight' (the config does not tie the output to the embeddings)");
        Path config = m.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true"));
        Model.load(m).close();
    }

    @Test
    void deeplyNestedJsonIsAnErrorNotAStackOverflow() throws Exception {
        Path m = olmoe("deep", s -> s);
        Files.writeString(m.resolve("config.json"), "[".repeat(100_000));
        refused(m, m.resolve("config.json") + ": not valid JSON: nesting deeper than 128 levels at offset 128");
    }

    @Test
    void oversizedJsonFilesAreRefusedBeforeReading() throws Exception {
        Path m = olmoe("huge", s -> s);
        try (var f = new java.io.RandomAccessFile(m.resolve("tokenizer.json").toFile(), "rw")) {
            f.setLength((256L << 20) + 1);   // sparse: nothing is written, and nothing may be read
        }
        refused(m, m.resolve("tokenizer.json") + ": file is 268435457 bytes, more than the 268435456 accepted");
        try (var f = new java.io.RandomAccessFile(m.resolve("config.json").toFile(), "rw")) {
            f.setLength((64L << 20) + 1);
        }
        refused(m, m.resolve("config.json") + ": file is 67108865 bytes, more than the 67108864 accepted");
    }

    // ---- the examples, on the reference files ----

    private static Path refs() {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "no shared/refs folder: these cases damage the reference checkpoints");
        return refs;
    }

    /** Position of the dimension count in the GGUF tensor description of {@code name}. */
    private static int tensorInfo(byte[] file, String name) {
        byte[] needle = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 8; at + needle.length < file.length; at++) {
            if (in.getLong(at - 8) == needle.length && java.util.Arrays.equals(file, at, at + needle.length, needle, 0, needle.length)) {
                return at + needle.length;
            }
        }
        throw new AssertionError(name + " not in the file");
    }

    @Test
    void q8TensorRetypedAsF16IsRefused() throws Exception {
        byte[] b = Files.readAllBytes(refs().resolve("olmoe-tiny/model-q8_0.gguf"));
        int info = tensorInfo(b, "blk.0.attn_q.weight");
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int type = info + 4 + 8 * buf.getInt(info);
        assertEquals(DType.Q8_0.ggmlId, buf.getInt(type));
        buf.putInt(type, DType.F16.ggmlId);
        Path p = dir.resolve("retyped.gguf");
        Files.write(p, b);
        Moe4jException e = assertThrows(Moe4jException.class, () -> Model.load(p).close());
        assertTrue(e.getMessage().startsWith(p + ": tensor 'blk.0.attn_v.weight' data starts at offset "), e.getMessage());
        assertTrue(e.getMessage().contains("the tensor before it, 'blk.0.attn_q.weight' (F16 [64, 64], 8192 bytes from "), e.getMessage());
    }

    @Test
    void embeddingPointedAtTheOutputIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(refs().resolve("olmoe-tiny/model-q8_0.gguf"));
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int output = tensorInfo(b, "output.weight"), embedding = tensorInfo(b, "token_embd.weight");
        int outputOffset = output + 4 + 8 * buf.getInt(output) + 4, embeddingOffset = embedding + 4 + 8 * buf.getInt(embedding) + 4;
        buf.putLong(embeddingOffset, buf.getLong(outputOffset));
        Path p = dir.resolve("aliased.gguf");
        Files.write(p, b);
        Moe4jException e = assertThrows(Moe4jException.class, () -> Model.load(p).close());
        assertTrue(e.getMessage().startsWith(p + ": tensor 'token_embd.weight' data starts at offset 0 of the data section, not at 40800,"
                + " where the tensor before it, 'output.weight'"), e.getMessage());
    }

    @Test
    void safetensorsHeaderLengthOneShortIsRefused() throws Exception {
        Path ref = refs().resolve("olmoe-tiny"), copy = Files.createDirectory(dir.resolve("olmoe-tiny"));
        for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) Files.createSymbolicLink(copy.resolve(f), ref.resolve(f));
        byte[] b = Files.readAllBytes(ref.resolve("model.safetensors"));
        b[0]--;
        Files.write(copy.resolve("model.safetensors"), b);
        Moe4jException e = assertThrows(Moe4jException.class, () -> Model.load(copy).close());
        assertTrue(e.getMessage().startsWith(copy.resolve("model.safetensors") + ": the tensors cover "), e.getMessage());
    }
}
