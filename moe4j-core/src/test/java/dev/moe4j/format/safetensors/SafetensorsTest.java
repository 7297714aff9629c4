package dev.moe4j.format.safetensors;

import dev.moe4j.kernel.Dequant;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsTest {
    @TempDir
    Path dir;

    static float[] randoms(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() + 0.01f;
        return a;
    }

    @Test
    void singleFileRoundTrip() {
        Random r = new Random(1);
        float[] a = randoms(r, 6 * 5), b = randoms(r, 7), c = randoms(r, 2 * 3 * 4);
        Path p = dir.resolve("model.safetensors");
        new SafetensorsWriter().metadata("format", "pt").metadata("quote\"d", "a\nb")
                .add("w.f32", DType.F32, new long[]{6, 5}, a)
                .add("w.f16", DType.F16, new long[]{7}, b)
                .add("w.bf16", DType.BF16, new long[]{2, 3, 4}, c)
                .add("ids", new long[]{3}, new long[]{1, -2, 1L << 40})
                .add("ints", new long[]{2}, new int[]{5, -6})
                .add("empty", DType.F32, new long[]{0, 4}, new float[0])
                .write(p);
        // Opening the folder finds model.safetensors.
        for (Path open : List.of(p, dir)) {
            try (SafetensorsStore s = SafetensorsStore.open(open)) {
                assertEquals(List.of("w.f32", "w.f16", "w.bf16", "ids", "ints", "empty"), List.copyOf(s.names()));
                assertEquals("pt", s.metadata().get("format"));
                assertEquals("a\nb", s.metadata().get("quote\"d"));
                Tensor t = s.tensor("w.f32");
                assertArrayEquals(new long[]{6, 5}, t.shape());
                float[] back = new float[30];
                Dequant.dequantize(DType.F32, t.data(), 0, back, 0, 30);
                assertArrayEquals(a, back);
                assertArrayEquals(Quantize.encode(DType.F16, b), s.tensor("w.f16").data().toArray(ValueLayout.JAVA_BYTE));
                Tensor bf = s.tensor("w.bf16");
                assertEquals(DType.BF16, bf.dtype());
                for (int i = 0; i < c.length; i++) assertEquals(c[i], Dequant.get(DType.BF16, bf.data(), 0, i), Math.abs(c[i]) / 128);
                assertEquals((float) (1L << 40), Dequant.get(DType.I64, s.tensor("ids").data(), 0, 2));
                assertEquals(-2f, Dequant.get(DType.I64, s.tensor("ids").data(), 0, 1));
                assertEquals(-6f, Dequant.get(DType.I32, s.tensor("ints").data(), 0, 1));
                assertEquals(0, s.tensor("empty").data().byteSize());
                assertTrue(s.find("nope").isEmpty());
                assertThrows(Moe4jException.class, () -> s.tensor("nope"));
            }
        }
    }

    /** Writes three shards and an index; returns the folder. */
    Path sharded(Random r, float[][] values) {
        String[] names = {"model.embed_tokens.weight", "model.layers.0.mlp.experts.0.up_proj.weight", "model.norm.weight"};
        StringBuilder idx = new StringBuilder("{\"metadata\":{\"total_size\":1},\"weight_map\":{");
        for (int i = 0; i < 3; i++) {
            values[i] = randoms(r, 8 * 4);
            String shard = "model-0000" + (i + 1) + "-of-00003.safetensors";
            SafetensorsWriter w = new SafetensorsWriter().add(names[i], DType.BF16, new long[]{8, 4}, values[i]);
            if (i == 1) w.add("extra.not.in.index", DType.F32, new long[]{1}, new float[]{1});
            w.write(dir.resolve(shard));
            idx.append(i > 0 ? "," : "").append('"').append(names[i]).append("\":\"").append(shard).append('"');
        }
        writeIndex(idx.append("}}").toString());
        return dir;
    }

    void writeIndex(String json) {
        try {
            Files.writeString(dir.resolve(SafetensorsStore.INDEX), json);
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void shardedRoundTrip() {
        float[][] v = new float[3][];
        Path folder = sharded(new Random(2), v);
        try (SafetensorsStore s = SafetensorsStore.open(folder)) {
            assertEquals(3, s.names().size());
            assertEquals(1L, s.metadata().get("total_size"));
            Tensor t = s.tensor("model.norm.weight");
            assertEquals(DType.BF16, t.dtype());
            assertEquals(Quantize.bf16ToFloat(Quantize.floatToBf16(v[2][5])), Dequant.get(DType.BF16, t.data(), 0, 5));
        }
        try (SafetensorsStore s = SafetensorsStore.open(folder.resolve(SafetensorsStore.INDEX))) {
            assertEquals(3, s.names().size());
        }
    }

    @Test
    void shardedErrors() throws Exception {
        sharded(new Random(3), new float[3][]);
        writeIndex("{\"weight_map\":{\"a\":\"missing.safetensors\"}}");
        fails(dir, "shard 'missing.safetensors' (for tensor 'a') does not exist", SafetensorsStore.INDEX);
        writeIndex("{\"weight_map\":{\"ghost\":\"model-00001-of-00003.safetensors\"}}");
        fails(dir, "tensor 'ghost' is not in shard 'model-00001-of-00003.safetensors'", SafetensorsStore.INDEX);
        writeIndex("{\"weights\":{}}");
        fails(dir, "no \"weight_map\"", SafetensorsStore.INDEX);
        writeIndex("{\"weight_map\":{");
        fails(dir, "not valid JSON", SafetensorsStore.INDEX);
        Path empty = Files.createDirectory(dir.resolve("empty"));
        fails(empty, "neither", "empty");
    }

    void fails(Path open, String expect, String fileName) {
        Moe4jException e = assertThrows(Moe4jException.class, () -> SafetensorsStore.open(open).close());
        String m = e.getMessage();
        assertTrue(m.contains(expect), "expected '" + expect + "' in: " + m);
        assertTrue(m.contains(fileName), m);
        assertFalse(m.contains("\n"), m);
    }

    /** A file from a raw JSON header and {@code dataBytes} bytes of data. */
    Path raw(String header, int dataBytes) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 8; i++) out.write((int) ((long) h.length >>> (8 * i)));
        out.writeBytes(h);
        out.writeBytes(new byte[dataBytes]);
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, out.toByteArray());
        return p;
    }

    @Test
    void corruptFiles() throws Exception {
        String ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        try (SafetensorsStore s = SafetensorsStore.open(raw(ok, 16))) {
            assertEquals(1, s.names().size());
        }
        fails(raw(ok, 15), "tensor 'w' data_offsets [0, 16] extend past the data section (15 bytes)", "bad.safetensors");
        fails(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16), "hold 12 bytes but shape [2, 2] of F32 needs 16", "bad");
        fails(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,4]}}", 16), "bad data_offsets", "bad");
        fails(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-2],\"data_offsets\":[0,16]}}", 16), "bad shape", "bad");
        fails(raw("{\"w\":{\"dtype\":\"F8_E5M2\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4), "tensor 'w' has dtype F8_E5M2", "bad");
        fails(raw("{\"w\":{\"shape\":[4],\"data_offsets\":[0,4]}}", 4), "tensor 'w' has no dtype", "bad");
        fails(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4), "too large", "bad");
        fails(raw("{\"w\":", 4), "header is not valid JSON", "bad");
        fails(raw("[1]", 4), "header is not valid JSON", "bad");
        Path p = raw(ok, 16);
        byte[] b = Files.readAllBytes(p);
        b[0] = (byte) 0xFF; // header length far larger than the file
        Files.write(p, b);
        fails(p, "header length", "bad.safetensors");
        Arrays.fill(b, 6, 8, (byte) 0xFF); // negative as a signed long
        Files.write(p, b);
        fails(p, "header length", "bad.safetensors");
        Files.write(p, new byte[5]);
        fails(p, "too short", "bad.safetensors");
        fails(dir.resolve("absent.safetensors"), "no such file", "absent.safetensors");
    }

    /** Entries of two F32 tensors, 'a' of 2 values and 'b' of 3, at the given offsets. */
    static String twoTensors(long aBegin, long bBegin) {
        return "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + aBegin + "," + (aBegin + 8) + "]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[" + bBegin + "," + (bBegin + 12) + "]}}";
    }

    @Test
    void tensorsMustTileTheDataSection() throws Exception {
        SafetensorsStore.open(raw(twoTensors(0, 8), 20)).close();
        SafetensorsStore.open(raw(twoTensors(12, 0), 20)).close();   // any order in the header
        fails(raw(twoTensors(0, 4), 20), "tensor 'b' data_offsets [4, 16] overlap tensor 'a', which ends at 8 (tensors must tile the data section)", "bad");
        fails(raw(twoTensors(0, 0), 20), "tensor 'b' data_offsets [0, 12] overlap tensor 'a'", "bad");
        fails(raw(twoTensors(0, 12), 24), "tensor 'b' data_offsets [12, 24] leave a gap after tensor 'a', which ends at 8", "bad");
        fails(raw(twoTensors(4, 12), 24), "tensor 'a' data_offsets [4, 12] do not start the data section at 0", "bad");
        fails(raw(twoTensors(0, 8), 24), "the tensors cover 20 bytes of data but the file holds 24 after its header (last: tensor 'b')", "bad");
    }

    @Test
    void headerLengthOffByOne() throws Exception {
        // Writers pad the header with spaces, so one byte less still parses: the data then starts a byte early.
        Path p = dir.resolve("model.safetensors");
        new SafetensorsWriter().add("a", DType.F32, new long[] {3}, new float[] {1, 2, 3}).write(p);
        byte[] b = Files.readAllBytes(p);
        long n = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(' ', b[(int) (8 + n - 1)], "the writer pads its header");
        b[0]--;
        Files.write(p, b);
        fails(p, "the tensors cover 12 bytes of data but the file holds 13 after its header (last: tensor 'a')", "model.safetensors");
    }

    @Test
    void deepOrHugeHeadersAreRefused() throws Exception {
        fails(raw("[".repeat(100_000), 4), "header is not valid JSON: nesting deeper than 128 levels", "bad");
        fails(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{}}", 4), "duplicate key \"a\"", "bad");
        Path p = raw("{}", 0);
        byte[] b = Files.readAllBytes(p);
        long over = SafetensorsStore.MAX_HEADER_BYTES + 8;
        for (int i = 0; i < 8; i++) b[i] = (byte) (over >>> (8 * i));
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {   // sparse: the length fits the file, not the limit
            f.write(b);
            f.setLength(over + 16);
        }
        fails(p, "header length " + over + " does not fit the file", "bad.safetensors");
    }

    @Test
    void truncatedAnywhere() throws Exception {
        Path p = dir.resolve("t.safetensors");
        new SafetensorsWriter().metadata("format", "pt").add("a", DType.F32, new long[]{3}, new float[]{1, 2, 3})
                .add("b", DType.BF16, new long[]{2}, new float[]{4, 5}).write(p);
        byte[] full = Files.readAllBytes(p);
        for (int len = 0; len < full.length; len++) {
            Files.write(p, Arrays.copyOf(full, len));
            Moe4jException e = assertThrows(Moe4jException.class, () -> SafetensorsStore.open(p).close());
            assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        }
    }
}
