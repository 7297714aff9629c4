package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class DequantTest {
    static final DType[] FLOAT_TYPES = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0};

    static float[] randoms(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() + 0.01f; // never all zeros
        return a;
    }

    /** {@code rows} rows of {@code cols} random values stored as {@code t}, after a few bytes of padding. */
    static MemorySegment rows(DType t, Random r, int rows, int cols, int pad) {
        long rowBytes = t.bytesFor(cols);
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) (pad + rows * rowBytes)]);
        for (int i = 0; i < rows; i++) Quantize.encode(t, randoms(r, cols), 0, cols, seg, pad + i * rowBytes);
        return seg;
    }

    @Test
    void dequantizeMatchesScalarExactly() {
        Random r = new Random(1);
        for (DType t : FLOAT_TYPES) {
            for (int n : new int[]{32, 64, 96, 160, 1024}) {
                MemorySegment seg = rows(t, r, 1, n, 6);
                float[] want = new float[n + 3], got = new float[n + 3];
                ScalarKernels.dequantize(t, seg, 6, want, 3, n);
                Dequant.dequantize(t, seg, 6, got, 3, n);
                assertArrayEquals(want, got, t + " n=" + n);
                for (int i = 0; i < n; i += 7) assertEquals(want[3 + i], Dequant.get(t, seg, 6, i), t + " get " + i);
                boolean nonZero = false;
                for (float v : got) nonZero |= v != 0;
                assertTrue(nonZero);
            }
        }
    }

    @Test
    void oddSizesForPlainTypes() {
        Random r = new Random(2);
        for (DType t : new DType[]{DType.F32, DType.F16, DType.BF16}) {
            for (int n : new int[]{1, 3, 7, 15, 17, 31, 33, 65, 100}) {
                MemorySegment seg = rows(t, r, 1, n, 2);
                float[] x = randoms(r, n + 5);
                float[] want = new float[n], got = new float[n];
                ScalarKernels.dequantize(t, seg, 2, want, 0, n);
                Dequant.dequantize(t, seg, 2, got, 0, n);
                assertArrayEquals(want, got, t + " n=" + n);
                assertClose(ScalarKernels.dot(t, seg, 2, x, 5, n), Dequant.dot(t, seg, 2, x, 5, n), bound(want, x, 5), t + " n=" + n);
            }
        }
    }

    @Test
    void dotAndMatvecMatchScalar() {
        Random r = new Random(3);
        for (DType t : FLOAT_TYPES) {
            for (int cols : new int[]{32, 64, 96, 224, 2048}) {
                int rows = 5;
                MemorySegment seg = rows(t, r, rows, cols, 4);
                float[] x = randoms(r, cols + 1);
                float[] want = new float[rows + 2], got = new float[rows + 2];
                ScalarKernels.matvec(t, seg, 4, rows, cols, x, 1, want, 2);
                Dequant.matvec(t, seg, 4, rows, cols, x, 1, got, 2);
                float[] row = new float[cols];
                for (int i = 0; i < rows; i++) {
                    Dequant.dequantize(t, seg, 4 + i * t.bytesFor(cols), row, 0, cols);
                    assertClose(want[2 + i], got[2 + i], bound(row, x, 1), t + " cols=" + cols + " row " + i);
                    assertEquals(want[2 + i], Dequant.dot(t, seg, 4 + i * t.bytesFor(cols), x, 1, cols), bound(row, x, 1));
                }
            }
        }
    }

    /** Float summation order differs; allow a few ulps of the sum of |terms|. */
    static double bound(float[] a, float[] x, int xOff) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += Math.abs((double) a[i] * x[xOff + i]);
        return 1e-6 * s + 1e-30;
    }

    static void assertClose(double want, double got, double tol, String what) {
        assertTrue(Math.abs(want - got) <= tol, what + ": want " + want + " got " + got + " tol " + tol);
    }

    @Test
    void everyHalfDecodesLikeFloat16ToFloat() {
        // All 65536 F16 and BF16 bit patterns through the vector path, compared bit for bit (NaNs as NaN).
        MemorySegment seg = MemorySegment.ofArray(new byte[65536 * 2]);
        for (int i = 0; i < 65536; i++) seg.set(LittleEndian.SHORT, 2L * i, (short) i);
        float[] got = new float[65536];
        for (DType t : new DType[]{DType.F16, DType.BF16}) {
            Dequant.dequantize(t, seg, 0, got, 0, 65536);
            for (int i = 0; i < 65536; i++) {
                float want = t == DType.F16 ? Float.float16ToFloat((short) i) : Float.intBitsToFloat(i << 16);
                if (Float.isNaN(want)) assertTrue(Float.isNaN(got[i]), t + " " + i);
                else assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), t + " bits " + Integer.toHexString(i));
            }
        }
    }

    @Test
    void integerAndDoubleTypesRead() {
        MemorySegment seg = MemorySegment.ofArray(new byte[64]);
        seg.set(LittleEndian.INT, 4, -7);
        seg.set(LittleEndian.LONG, 8, 1L << 40);
        seg.set(LittleEndian.DOUBLE, 16, 2.5);
        assertEquals(-7f, Dequant.get(DType.I32, seg, 0, 1));
        assertEquals((float) (1L << 40), Dequant.get(DType.I64, seg, 0, 1));
        assertEquals(2.5f, Dequant.get(DType.F64, seg, 0, 2));
    }

    @Test
    void blockTypesRejectPartialBlocks() {
        MemorySegment seg = MemorySegment.ofArray(new byte[100]);
        assertThrows(IllegalArgumentException.class, () -> Dequant.dot(DType.Q8_0, seg, 0, new float[40], 0, 40));
        assertThrows(IllegalArgumentException.class, () -> Dequant.dequantize(DType.Q4_0, seg, 0, new float[40], 0, 20));
    }
}
