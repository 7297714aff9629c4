package dev.moe4j.format.gguf;

import dev.moe4j.kernel.Dequant;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GgufRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void everyMetadataType() {
        GgufWriter w = new GgufWriter()
                .put("u8", GgufType.UINT8, 255)
                .put("i8", GgufType.INT8, -128)
                .put("u16", GgufType.UINT16, 65535)
                .put("i16", GgufType.INT16, -32768)
                .putUInt32("u32", 0xFFFF_FFFFL)
                .putInt32("i32", -5)
                .putFloat32("f32", 1.5f)
                .putBool("yes", true)
                .putBool("no", false)
                .putString("general.architecture", "qwen2moe")
                .putString("unicode", "héllo ✓")
                .putUInt64("u64", -1L) // 2^64-1, kept as raw bits
                .put("i64", Long.MIN_VALUE)
                .putFloat64("f64", Math.PI)
                .putArray("tokens", GgufType.STRING, List.of("a", "", "<s>"))
                .putArray("scores", GgufType.FLOAT32, List.of(0.5f, -1f))
                .putArray("ids", GgufType.INT32, List.of(1, 2, 3))
                .putArray("empty", GgufType.UINT8, List.of())
                .put("nested", List.of(List.of(1L, 2L), List.of(3L)))
                .put("inferred", 7);
        Path p = dir.resolve("meta.gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(255L, f.getLong("u8"));
            assertEquals(-128L, f.getLong("i8"));
            assertEquals(65535L, f.getLong("u16"));
            assertEquals(-32768L, f.getLong("i16"));
            assertEquals(0xFFFF_FFFFL, f.getLong("u32"));
            assertEquals(-5L, f.getLong("i32"));
            assertEquals(-5, f.getInt("i32"));
            assertEquals(1.5f, f.getFloat("f32"));
            assertEquals(Float.class, f.get("f32").orElseThrow().getClass());
            assertTrue(f.getBool("yes"));
            assertFalse(f.getBool("no"));
            assertEquals("qwen2moe", f.architecture());
            assertEquals("héllo ✓", f.getString("unicode"));
            assertEquals(-1L, f.getLong("u64"));
            assertEquals(Long.MIN_VALUE, f.getLong("i64"));
            assertEquals(Math.PI, f.get("f64").orElseThrow());
            assertEquals((float) Math.PI, f.getFloat("f64"));
            assertEquals(List.of("a", "", "<s>"), f.getArray("tokens"));
            assertEquals(List.of(0.5f, -1f), f.getArray("scores"));
            assertEquals(List.of(1L, 2L, 3L), f.getArray("ids"));
            assertEquals(List.of(), f.getArray("empty"));
            assertEquals(List.of(List.of(1L, 2L), List.of(3L)), f.getArray("nested"));
            assertEquals(7L, f.getLong("inferred"));
            assertEquals(GgufType.UINT32, f.typeOf("u32").orElseThrow());
            assertEquals(GgufType.STRING, f.elementTypeOf("tokens").orElseThrow());
            assertTrue(f.findLong("absent").isEmpty());
            assertTrue(f.get("absent").isEmpty());
            assertTrue(f.names().isEmpty());

            var e = assertThrows(dev.moe4j.util.Moe4jException.class, () -> f.getLong("unicode"));
            assertTrue(e.getMessage().contains("meta.gguf") && e.getMessage().contains("unicode"), e.getMessage());
            e = assertThrows(dev.moe4j.util.Moe4jException.class, () -> f.getString("missing.key"));
            assertTrue(e.getMessage().contains("missing.key"), e.getMessage());

            // Copying keeps the exact types.
            Path q = dir.resolve("copy.gguf");
            new GgufWriter().copyMetadata(f).write(q);
            try (GgufFile g = GgufFile.open(q)) {
                assertEquals(f.metadata(), g.metadata());
                for (String k : f.metadata().keySet()) assertEquals(f.typeOf(k), g.typeOf(k), k);
            }
        }
    }

    @Test
    void writerRejectsOutOfRangeValues() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufType.UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> w.putUInt32("x", -1));
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufType.STRING, 3));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.Q8_0, new long[]{4, 16}, new float[64]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.F32, new long[]{4, 16}, new float[63]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", DType.F32, new long[]{4, 16}, new byte[10]));
    }

    static float[] randoms(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() + 0.01f;
        return a;
    }

    @Test
    void everyTensorTypeAndAlignment() throws Exception {
        for (int alignment : new int[]{32, 64, 4096}) {
            Random r = new Random(alignment);
            GgufWriter w = new GgufWriter().putString("general.architecture", "test");
            if (alignment != 32) w.alignment(alignment);
            DType[] floats = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0};
            float[][] src = new float[floats.length][];
            for (int i = 0; i < floats.length; i++) {
                src[i] = randoms(r, 3 * 64);
                w.addTensor("t." + floats[i], floats[i], new long[]{3, 64}, src[i]);
            }
            // Per-expert 2-D tensors and a merged 3-D one.
            float[] merged = randoms(r, 8 * 96 * 64);
            for (int e = 0; e < 2; e++)
                w.addTensor("blk.0.ffn_gate." + e + ".weight", DType.F32, new long[]{96, 64},
                        java.util.Arrays.copyOfRange(merged, e * 96 * 64, (e + 1) * 96 * 64));
            w.addTensor("blk.0.ffn_gate_exps.weight", DType.Q8_0, new long[]{8, 96, 64}, merged);
            byte[] ints = new byte[5 * 4];
            ByteBuffer.wrap(ints).order(ByteOrder.LITTLE_ENDIAN).putInt(0, -3).putInt(16, 99);
            w.addTensor("ids", DType.I32, new long[]{5}, ints);
            w.addTensor("big", DType.I64, new long[]{1}, MemorySegment.ofArray(new long[]{1L << 50}));
            w.addTensor("dbl", DType.F64, new long[]{1, 1}, MemorySegment.ofArray(new double[]{0.25}));
            // Produced on demand, as a quantiser would.
            w.addTensor("lazy", DType.F32, new long[]{2}, out -> out.write(new byte[]{0, 0, (byte) 0x80, 0x3F, 0, 0, 0, 0x40}));
            Path p = dir.resolve("t" + alignment + ".gguf");
            w.write(p);

            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(alignment, f.alignment());
                assertEquals(0, f.tensorDataOffset() % alignment);
                assertEquals(List.of("t.F32", "t.F16", "t.BF16", "t.Q8_0", "t.Q4_0", "blk.0.ffn_gate.0.weight",
                        "blk.0.ffn_gate.1.weight", "blk.0.ffn_gate_exps.weight", "ids", "big", "dbl", "lazy"), List.copyOf(f.names()));
                for (Tensor t : f.tensors()) // mappings are page aligned, so addresses show file alignment
                    assertEquals(0, t.data().address() % alignment, t.name());
                for (int i = 0; i < floats.length; i++) {
                    Tensor t = f.tensor("t." + floats[i]);
                    assertEquals(floats[i], t.dtype());
                    assertArrayEquals(new long[]{3, 64}, t.shape());
                    assertArrayEquals(Quantize.encode(floats[i], src[i]), t.data().toArray(ValueLayout.JAVA_BYTE));
                    if (floats[i] == DType.F32) {
                        float[] back = new float[3 * 64];
                        Dequant.dequantize(DType.F32, t.data(), 0, back, 0, back.length);
                        assertArrayEquals(src[i], back);
                    }
                }
                Tensor m = f.tensor("blk.0.ffn_gate_exps.weight");
                assertArrayEquals(new long[]{8, 96, 64}, m.shape());
                assertEquals(8L * 96 * 64 / 32 * 34, m.data().byteSize());
                // Expert 1 of the merged tensor dequantises close to the per-expert copy.
                float[] e1 = new float[96 * 64];
                Dequant.dequantize(DType.Q8_0, m.data(), DType.Q8_0.bytesFor(96 * 64), e1, 0, e1.length);
                Tensor sep = f.tensor("blk.0.ffn_gate.1.weight");
                for (int i = 0; i < e1.length; i += 37)
                    assertEquals(Dequant.get(DType.F32, sep.data(), 0, i), e1[i], 0.05);
                assertEquals(-3f, Dequant.get(DType.I32, f.tensor("ids").data(), 0, 0));
                assertEquals(99f, Dequant.get(DType.I32, f.tensor("ids").data(), 0, 4));
                assertEquals((float) (1L << 50), Dequant.get(DType.I64, f.tensor("big").data(), 0, 0));
                assertEquals(0.25f, Dequant.get(DType.F64, f.tensor("dbl").data(), 0, 0));
                assertEquals(2f, Dequant.get(DType.F32, f.tensor("lazy").data(), 0, 1));
                assertTrue(f.find("nope").isEmpty());
            }
        }
    }

    @Test
    void dimensionsAreStoredInnermostFirst() throws Exception {
        Path p = dir.resolve("dims.gguf");
        new GgufWriter().addTensor("blk.0.ffn_gate_exps.weight", DType.F32, new long[]{8, 96, 64}, new float[8 * 96 * 64]).write(p);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 4 + 4 + 8 + 8; // magic, version, counts (no metadata)
        long nameLen = b.getLong(pos);
        pos += 8 + (int) nameLen;
        assertEquals(3, b.getInt(pos));
        assertEquals(64, b.getLong(pos + 4));
        assertEquals(96, b.getLong(pos + 12));
        assertEquals(8, b.getLong(pos + 20));
    }

    @Test
    void mapsFilesLargerThan2GiB() throws Exception {
        // A sparse file: a 3 GiB tensor, then one that lives 3 GiB into the data section, so nothing fits an int offset.
        long offset = 3L << 30;
        byte[] header = GgufCorruptionTest.Raw.header(2, 0).tensor("filler", DType.F32.ggmlId, 0, offset / 4)
                .tensor("far", DType.F32.ggmlId, offset, 4).pad(32).toBytes();
        Path p = dir.resolve("big.gguf");
        try (var raf = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            raf.write(header);
            raf.setLength(header.length + offset + 16);
            raf.seek(header.length + offset + 12);
            raf.write(new byte[]{0, 0, (byte) 0xC0, 0x3F}); // 1.5f little-endian
        }
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(1.5f, Dequant.get(DType.F32, f.tensor("far").data(), 0, 3));
        } finally {
            Files.delete(p);
        }
    }

    @Test
    void readsVersion2() throws Exception {
        Path p = dir.resolve("v2.gguf");
        new GgufWriter().putString("general.architecture", "llama").addTensor("w", DType.F32, new long[]{2}, new float[]{1, 2}).write(p);
        byte[] b = Files.readAllBytes(p);
        b[4] = 2;
        Files.write(p, b);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(2, f.version());
            assertEquals("llama", f.architecture());
        }
    }
}
