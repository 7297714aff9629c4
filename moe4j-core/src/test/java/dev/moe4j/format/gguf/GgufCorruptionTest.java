package dev.moe4j.format.gguf;

import dev.moe4j.tensor.DType;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** Damaged and lying files must fail fast with one line naming the file, never OOM or index errors. */
class GgufCorruptionTest {
    @TempDir
    Path dir;

    /** Little-endian byte builder for hand-made headers. */
    static final class Raw {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Raw u32(long v) { return le(v, 4); }
        Raw u64(long v) { return le(v, 8); }
        Raw bytes(byte[] b) { out.writeBytes(b); return this; }
        Raw str(String s) { byte[] b = s.getBytes(StandardCharsets.UTF_8); u64(b.length); return bytes(b); }
        Raw pad(int n) { while (out.size() % n != 0) out.write(0); return this; }

        Raw le(long v, int n) {
            for (int i = 0; i < n; i++) out.write((int) (v >>> (8 * i)));
            return this;
        }

        /** Magic, version 3 and the two counts. */
        static Raw header(long tensors, long kvs) {
            return new Raw().bytes("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(tensors).u64(kvs);
        }

        /** One tensor description with GGUF-order (innermost-first) dims. */
        Raw tensor(String name, int type, long offset, long... dims) {
            str(name).u32(dims.length);
            for (long d : dims) u64(d);
            return u32(type).u64(offset);
        }

        byte[] toBytes() { return out.toByteArray(); }
    }

    Path file(String name, byte[] content) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    /** Opening must throw a Moe4jException whose single-line message names the file and contains {@code expect}. */
    void fails(byte[] content, String expect) throws Exception {
        Path p = file("bad.gguf", content);
        long t0 = System.nanoTime();
        Moe4jException e = assertThrows(Moe4jException.class, () -> GgufFile.open(p).close());
        assertTrue((System.nanoTime() - t0) < 2_000_000_000L, "slow failure");
        String m = e.getMessage();
        assertTrue(m.startsWith(p.toString() + ": "), m);
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains(expect), "expected '" + expect + "' in: " + m);
    }

    byte[] validFile() throws Exception {
        Path p = dir.resolve("valid.gguf");
        new GgufWriter().putString("general.architecture", "llama").putArray("tokenizer.ggml.tokens",
                        GgufType.STRING, java.util.List.of("a", "b")).putFloat32("eps", 1e-5f)
                .addTensor("blk.0.attn_q.weight", DType.F32, new long[]{4, 8}, new float[32])
                .addTensor("blk.0.ffn_gate_exps.weight", DType.Q8_0, new long[]{2, 2, 32}, new float[128])
                .write(p);
        return Files.readAllBytes(p);
    }

    @Test
    void truncatedAnywhere() throws Exception {
        byte[] full = validFile();
        Path p = dir.resolve("cut.gguf");
        // Every cut inside the header and data must be reported; only the padding after the last
        // tensor (F32 4x8 = 128 bytes, then 4 Q8_0 blocks = 136 bytes) may be cut.
        Files.write(p, full);
        int end;
        try (GgufFile f = GgufFile.open(p)) {
            end = (int) f.tensorDataOffset() + 128 + 136;
        }
        assertTrue(end > full.length - 32 && end <= full.length);
        for (int len = 0; len < end; len++) {
            Files.write(p, Arrays.copyOf(full, len));
            final int n = len;
            Moe4jException e = assertThrows(Moe4jException.class, () -> GgufFile.open(p).close(), () -> "cut at " + n);
            assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        }
        Files.write(p, full);
        GgufFile.open(p).close();
    }

    @Test
    void badMagicAndVersions() throws Exception {
        byte[] b = validFile();
        b[0] = 'X';
        fails(b, "bad magic");
        fails(new byte[0], "too short");
        fails(Arrays.copyOf(b, 3), "too short");
    }

    @Test
    void emptyButWellFormedFileOpens() throws Exception {
        try (GgufFile f = GgufFile.open(file("empty.gguf", Raw.header(0, 0).toBytes()))) {
            assertTrue(f.names().isEmpty());
        }
    }

    @Test
    void unsupportedVersions() throws Exception {
        byte[] v1 = new Raw().bytes("GGUF".getBytes()).u32(1).u64(0).u64(0).toBytes();
        fails(v1, "version 1 is not supported");
        byte[] v4 = new Raw().bytes("GGUF".getBytes()).u32(4).u64(0).u64(0).toBytes();
        fails(v4, "version 4");
        byte[] be = new Raw().bytes("GGUF".getBytes()).u32(0x03000000).u64(0).u64(0).toBytes();
        fails(be, "big-endian");
    }

    @Test
    void lyingCountsAndLengths() throws Exception {
        fails(Raw.header(1L << 40, 0).toBytes(), "tensor count 1099511627776");
        fails(Raw.header(-1L, 0).toBytes(), "tensor count 18446744073709551615");
        fails(Raw.header(0, 1L << 40).toBytes(), "key/value count");
        fails(Raw.header(0, 1).u64(1L << 40).bytes(new byte[64]).toBytes(), "metadata key #0 length 1099511627776");
        fails(Raw.header(0, 1).str("k").u32(8).u64(-5L).toBytes(), "metadata 'k' length 18446744073709551611");
        // An array claiming 2^40 uint32s in a tiny file: must fail before allocating.
        fails(Raw.header(0, 1).str("arr").u32(9).u32(4).u64(1L << 40).bytes(new byte[64]).toBytes(), "array length 1099511627776");
        fails(Raw.header(0, 1).str("arr").u32(9).u32(8).u64(Long.MAX_VALUE).toBytes(), "array length");
        // Nested arrays, each claiming to hold more arrays.
        fails(Raw.header(0, 1).str("arr").u32(9).u32(9).u64(1).u32(9).u64(1L << 50).toBytes(), "array length");
        fails(Raw.header(0, 1).str("k").u32(13).u32(0).toBytes(), "unknown value type 13");
        fails(Raw.header(0, 1).str("k").u32(7).bytes(new byte[]{5}).toBytes(), "bool");
        fails(Raw.header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(1).toBytes(), "duplicate metadata key 'k'");
        fails(Raw.header(0, 1).str("general.alignment").u32(4).u32(48).toBytes(), "general.alignment");
    }

    @Test
    void badTensorDescriptions() throws Exception {
        fails(Raw.header(1, 0).tensor("w", 0, 0, 4, 4, 4, 4, 4).pad(32).bytes(new byte[4096]).toBytes(), "tensor 'w' has 5 dimensions");
        fails(Raw.header(1, 0).tensor("w", 0, 0, 4, 0).pad(32).bytes(new byte[64]).toBytes(), "tensor 'w' dimension 1 is 0");
        fails(Raw.header(1, 0).tensor("w", 0, 0, -1L).pad(32).bytes(new byte[64]).toBytes(), "tensor 'w' dimension");
        fails(Raw.header(1, 0).tensor("w", 0, 0, 1L << 32, 1L << 32, 1L << 32).pad(32).toBytes(), "too many elements");
        // Unsupported types are named, not only numbered (GgmlTypeNames): a known type, an unknown id, an id past 2^31.
        fails(Raw.header(1, 0).tensor("w", 144, 0, 4).pad(32).bytes(new byte[64]).toBytes(),
                "tensor 'w' has tensor type IQ4_KS (id 144), which moe4j does not support");
        fails(Raw.header(1, 0).tensor("w", 4000, 0, 4).pad(32).bytes(new byte[64]).toBytes(), "tensor type unknown type (id 4000)");
        fails(Raw.header(1, 0).tensor("w", -1, 0, 4).pad(32).bytes(new byte[64]).toBytes(), "unknown type (id 4294967295)");
        fails(Raw.header(1, 0).tensor("w", DType.Q8_0.ggmlId, 0, 48, 2).pad(32).bytes(new byte[256]).toBytes(),
                "innermost dimension 48 is not a multiple of the block size 32");
        fails(Raw.header(2, 0).tensor("w", 0, 0, 4).tensor("w", 0, 32, 4).pad(32).bytes(new byte[64]).toBytes(),
                "duplicate tensor name 'w'");
        fails(Raw.header(1, 0).tensor("w", 0, 7, 4).pad(32).bytes(new byte[64]).toBytes(), "not a multiple of the alignment");
    }

    @Test
    void tensorDataPastTheEnd() throws Exception {
        byte[] b = Raw.header(1, 0).tensor("blk.0.attn_q.weight", 0, 32, 1024).pad(32).bytes(new byte[2048]).toBytes();
        int dataStart = b.length - 2048;
        fails(b, "tensor 'blk.0.attn_q.weight' data [offset " + (dataStart + 32) + ", 4096 bytes] extends past the end of the file ("
                + b.length + " bytes)");
        fails(Raw.header(1, 0).tensor("w", 0, 1L << 62, 4).pad(32).toBytes(), "extends past the end");
        fails(Raw.header(1, 0).tensor("w", 0, -32L, 4).pad(32).toBytes(), "data offset");
    }

    /**
     * Two tensors laid out as every writer does: 'a' F32 [4, 8] (128 bytes) at 0, then 'b' Q8_0 [2, 2, 32]
     * (136 bytes) at 128; {@code trailing} bytes after b's data.
     */
    static byte[] twoTensors(int typeA, long offsetA, int typeB, long offsetB, int trailing) {
        return Raw.header(2, 0).tensor("a", typeA, offsetA, 8, 4).tensor("b", typeB, offsetB, 32, 2, 2).pad(32)
                .bytes(new byte[128 + 136 + trailing]).toBytes();
    }

    @Test
    void tensorsMustFollowEachOtherInOrder() throws Exception {
        int f32 = DType.F32.ggmlId, q8 = DType.Q8_0.ggmlId;
        GgufFile.open(file("ok.gguf", twoTensors(f32, 0, q8, 128, 0))).close();
        GgufFile.open(file("padded.gguf", twoTensors(f32, 0, q8, 128, 31))).close();   // padding after the last tensor
        // A type that is legal but not the tensor's (F16 where F32 was): its byte range no longer meets the next one.
        fails(twoTensors(DType.F16.ggmlId, 0, q8, 128, 0), "tensor 'b' data starts at offset 128 of the data section, not at 64,"
                + " where the tensor before it, 'a' (F16 [4, 8], 64 bytes from 0), ends padded to 32 bytes (a wrong type, shape or offset)");
        // A tensor pointed at another's data.
        fails(twoTensors(f32, 0, q8, 0, 0), "tensor 'b' data starts at offset 0 of the data section, not at 128");
        fails(twoTensors(f32, 32, q8, 128, 0), "tensor 'a' data starts at offset 32 of the data section, not at 0, where the first tensor's data belongs");
        // The last tensor shrunk (Q4_0 where Q8_0 was), or bytes appended: data no tensor describes.
        fails(twoTensors(f32, 0, DType.Q4_0.ggmlId, 128, 0), "64 bytes follow the data of the last tensor, 'b' (Q4_0 [2, 2, 32],"
                + " 72 bytes from 128), where at most 31 bytes of padding belong");
        fails(twoTensors(f32, 0, q8, 128, 32), "32 bytes follow the data of the last tensor, 'b'");
    }

    @Test
    void stringsAndArraysAreBoundedBeforeAllocating() throws Exception {
        // Lengths within the file but beyond any real header: refused before the bytes are copied onto the heap.
        int big = (int) GgufReader.MAX_STRING_BYTES + 1;
        fails(Raw.header(0, 1).str("k").u32(GgufType.STRING.id).u64(big).bytes(new byte[big]).toBytes(),
                "metadata 'k' length " + big + " is more than the " + GgufReader.MAX_STRING_BYTES + " bytes accepted for a string");
        // The budget is for the whole header: 1000 elements in 'a' leave too few for 'b', refused before reading it.
        long n = GgufReader.MAX_ARRAY_ELEMENTS - 999;
        Raw two = Raw.header(0, 2).str("a").u32(GgufType.ARRAY.id).u32(GgufType.UINT8.id).u64(1000).bytes(new byte[1000]);
        two.str("b").u32(GgufType.ARRAY.id).u32(GgufType.UINT8.id).u64(n).bytes(new byte[(int) n]);
        fails(two.toBytes(), "metadata 'b' array length " + n + " is more than the " + GgufReader.MAX_ARRAY_ELEMENTS
                + " array elements accepted in a header");
    }

    @Test
    void randomByteFlipsNeverEscapeAsOtherExceptions() throws Exception {
        byte[] full = validFile();
        java.util.Random r = new java.util.Random(7);
        Path p = dir.resolve("flip.gguf");
        int headerEnd = 400; // flips in tensor data are legal; aim at the header
        for (int i = 0; i < 300; i++) {
            byte[] b = full.clone();
            int at = r.nextInt(headerEnd);
            b[at] = (byte) r.nextInt(256);
            Files.write(p, b);
            try {
                GgufFile.open(p).close();
            } catch (Moe4jException e) {
                assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
            }
        }
    }
}
