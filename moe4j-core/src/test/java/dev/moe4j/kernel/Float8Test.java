package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static dev.moe4j.kernel.LittleEndian.FLOAT;
import static org.junit.jupiter.api.Assertions.*;

/** float8 e4m3 with block scales: decoding every byte, the vector kernels against the scalar reader, repacking. */
class Float8Test {
    private static final TypeKernels K = TypeKernels.of(DType.F8_E4M3_B32);

    /** e4m3fn by its definition: (−1)^s · 2^(e − 7) · (1 + m/8), subnormals 2^−6 · m/8, S.1111.111 NaN. */
    static double e4m3(int b) {
        int s = b >> 7 & 1, e = b >> 3 & 15, m = b & 7;
        if (e == 15 && m == 7) return Double.NaN;
        double v = e == 0 ? Math.pow(2, -6) * m / 8 : Math.pow(2, e - 7) * (1 + m / 8.0);
        return s == 1 ? -v : v;
    }

    @Test
    void decodesEveryByte() {
        MemorySegment one = MemorySegment.ofArray(new byte[1]);
        for (int b = 0; b < 256; b++) {
            one.set(ValueLayout.JAVA_BYTE, 0, (byte) b);
            double want = e4m3(b);
            float got = TypeKernels.of(DType.F8_E4M3).get(one, 0, 0);
            if (Double.isNaN(want)) assertTrue(Float.isNaN(got), "byte " + b);
            else assertEquals((float) want, got, 0f, "byte " + b);
        }
        assertEquals(448f, Float8Kernels.decode(0x7E));
        assertEquals(0x1p-9f, Float8Kernels.decode(0x01));
    }

    /** Random blocks: scales of everyday magnitudes, every byte but the two NaNs (repacking refuses those). */
    static MemorySegment randomBlocks(Random r, int blocks, int pad) {
        MemorySegment seg = MemorySegment.ofArray(new byte[pad + 36 * blocks]);
        for (int k = 0; k < blocks; k++) {
            seg.set(FLOAT, pad + 36L * k, (float) Math.scalb(1 + r.nextDouble(), -12 + r.nextInt(14)));
            for (int j = 0; j < 32; j++) {
                int b;
                do b = r.nextInt(256); while ((b & 0x7F) == 0x7F);
                seg.set(ValueLayout.JAVA_BYTE, pad + 36L * k + 4 + j, (byte) b);
            }
        }
        return seg;
    }

    @Test
    void vectorKernelsMatchTheScalarReader() {
        Random r = new Random(8);
        for (int n : new int[] {32, 64, 160, 2048}) {
            MemorySegment seg = randomBlocks(r, n / 32, 3);
            float[] want = new float[n + 1], got = new float[n + 1];
            K.referenceDequantize(seg, 3, want, 1, n);
            K.dequantize(seg, 3, got, 1, n);
            assertArrayEquals(want, got, "dequantize n=" + n);
            float[] x = DequantTest.randoms(r, n + 2);
            double bound = 0;
            for (int i = 0; i < n; i++) bound += Math.abs(want[1 + i] * x[2 + i]);
            assertEquals(K.referenceDot(seg, 3, x, 2, n), K.dot(seg, 3, x, 2, n), 1e-5 * bound, "dot n=" + n);
        }
    }

    @Test
    void repacksEachValueWithItsBlocksScale() {
        int rows = 5, cols = 96, br = 2, bc = 64;   // partial blocks at the bottom and right edges
        Random r = new Random(9);
        byte[] w = new byte[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (byte) (r.nextInt(256) & 0xF7);   // never NaN
        float[] scales = new float[3 * 2];
        for (int i = 0; i < scales.length; i++) scales[i] = (float) (0.001 * (i + 1));
        MemorySegment dst = MemorySegment.ofArray(new byte[(int) DType.F8_E4M3_B32.bytesFor(rows * cols)]);
        assertEquals(-1, Float8Kernels.repack(MemorySegment.ofArray(w), 0, rows, cols, scales, br, bc, dst, 0));
        float[] row = new float[cols];
        for (int i = 0; i < rows; i++) {
            K.dequantize(dst, DType.F8_E4M3_B32.bytesFor((long) i * cols), row, 0, cols);
            for (int j = 0; j < cols; j++)
                assertEquals((float) e4m3(w[i * cols + j] & 0xFF) * scales[(i / br) * 2 + j / bc], row[j], 0f, "(" + i + ", " + j + ")");
        }
        w[3 * cols + 17] = (byte) 0xFF;
        assertEquals(3L * cols + 17, Float8Kernels.repack(MemorySegment.ofArray(w), 0, rows, cols, scales, br, bc, dst, 0));
    }
}
