package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static dev.moe4j.kernel.DequantTest.assertClose;
import static dev.moe4j.kernel.DequantTest.bound;
import static dev.moe4j.kernel.DequantTest.randoms;
import static dev.moe4j.kernel.DequantTest.rows;
import static org.junit.jupiter.api.Assertions.*;

class KQuantsTest {
    static final DType[] K_TYPES = {DType.Q4_K, DType.Q6_K};

    @Test
    void blockSizesMatchGgml() {
        assertEquals(144, DType.Q4_K.blockBytes);
        assertEquals(210, DType.Q6_K.blockBytes);
        assertEquals(DType.Q4_K, DType.fromGgml(12));
        assertEquals(DType.Q6_K, DType.fromGgml(14));
    }

    @Test
    void dequantizeAndDotMatchScalar() {
        Random r = new Random(11);
        for (DType t : K_TYPES) {
            for (int cols : new int[]{256, 512, 1280}) {
                int rowCount = 3;
                MemorySegment seg = rows(t, r, rowCount, cols, 5);
                float[] x = randoms(r, cols + 3);
                for (int i = 0; i < rowCount; i++) {
                    long off = 5 + i * t.bytesFor(cols);
                    float[] want = new float[cols], got = new float[cols];
                    ScalarKernels.dequantize(t, seg, off, want, 0, cols);
                    Dequant.dequantize(t, seg, off, got, 0, cols);
                    assertArrayEquals(want, got, t + " cols=" + cols);
                    assertClose(ScalarKernels.dot(t, seg, off, x, 3, cols), Dequant.dot(t, seg, off, x, 3, cols),
                            bound(want, x, 3), t + " dot cols=" + cols);
                }
            }
        }
    }

    @Test
    void roundTripErrorIsSmall() {
        Random r = new Random(12);
        float[] x = randoms(r, 256 * 16);
        for (DType t : K_TYPES) {
            byte[] q = Quantize.encode(t, x);
            float[] y = new float[x.length];
            Dequant.dequantize(t, MemorySegment.ofArray(q), 0, y, 0, x.length);
            double err = 0, sum = 0;
            for (int i = 0; i < x.length; i++) {
                err += (x[i] - y[i]) * (x[i] - y[i]);
                sum += x[i] * x[i];
            }
            double rel = Math.sqrt(err / sum);
            // 4 bits with a per-32 min/max grid: ~7% RMS; 6 bits: ~2% (ggml's search gets a little less).
            assertTrue(rel < (t == DType.Q4_K ? 0.12 : 0.035), t + " relative RMS error " + rel);
            assertTrue(rel > 0, t + " lossless is suspicious");
        }
    }

    @Test
    void q6kLayoutPlacesBitsWhereGgmlDoes() {
        // One block with d = 1, scales 1, and chosen 6-bit codes at positions in each quarter of each half.
        MemorySegment b = MemorySegment.ofArray(new byte[210]);
        b.set(ScalarKernels.SHORT, 208, Float.floatToFloat16(1f));
        for (int j = 0; j < 16; j++) b.set(ValueLayout.JAVA_BYTE, 192 + j, (byte) 1);
        // value 32*q + l of half h: low nibble in ql[64h + l + 32*(q%2)] (low for q<2, high for q>=2),
        // high pair in qh[32h + l] bits 2q..2q+1.
        int h = 1, l = 5;
        int[] codes = {0x3F, 0x21, 0x12, 0x05};
        for (int q = 0; q < 4; q++) {
            int at = 64 * h + l + 32 * (q % 2);
            int cur = b.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            b.set(ValueLayout.JAVA_BYTE, at, (byte) (cur | (q < 2 ? codes[q] & 0xF : (codes[q] & 0xF) << 4)));
            int hb = b.get(ValueLayout.JAVA_BYTE, 128 + 32 * h + l) & 0xFF;
            b.set(ValueLayout.JAVA_BYTE, 128 + 32 * h + l, (byte) (hb | (codes[q] >> 4) << (2 * q)));
        }
        float[] y = new float[256];
        Dequant.dequantize(DType.Q6_K, b, 0, y, 0, 256);
        for (int q = 0; q < 4; q++) assertEquals(codes[q] - 32, y[128 * h + 32 * q + l], "quarter " + q);
        assertEquals(-32, y[0]);
    }

    @Test
    void q4kLayoutUsesPackedSixBitScales() {
        MemorySegment b = MemorySegment.ofArray(new byte[144]);
        b.set(ScalarKernels.SHORT, 0, Float.floatToFloat16(1f));
        b.set(ScalarKernels.SHORT, 2, Float.floatToFloat16(1f));
        // sub-block 5: scale = (s[9] & 0xF) | (s[1] >> 6) << 4, min = (s[9] >> 4) | (s[5] >> 6) << 4
        b.set(ValueLayout.JAVA_BYTE, 4 + 9, (byte) 0x32);   // scale low 2, min low 3
        b.set(ValueLayout.JAVA_BYTE, 4 + 1, (byte) 0x40);   // scale high bits 01 -> +16
        b.set(ValueLayout.JAVA_BYTE, 4 + 5, (byte) 0x80);   // min high bits 10 -> +32
        // sub-block 5 is the high nibbles of chunk 2: qs[64 + l] >> 4
        b.set(ValueLayout.JAVA_BYTE, 16 + 64 + 7, (byte) 0x90);
        float[] y = new float[256];
        Dequant.dequantize(DType.Q4_K, b, 0, y, 0, 256);
        assertEquals(18 * 9 - 35, y[160 + 7]);
        assertEquals(-35, y[160]);
    }
}
