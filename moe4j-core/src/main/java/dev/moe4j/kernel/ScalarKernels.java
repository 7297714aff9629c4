package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Plain, obviously-correct loops for every {@link DType}. They define what the vectorised
 * {@link Dequant} must compute and are what the tests compare against; keep them simple rather than fast.
 */
public final class ScalarKernels {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ScalarKernels() {}

    /** Element {@code i} of the values that start at {@code byteOffset}. */
    public static float get(DType t, MemorySegment seg, long byteOffset, long i) {
        return switch (t) {
            case F32 -> seg.get(FLOAT, byteOffset + 4 * i);
            case F16 -> Float.float16ToFloat(seg.get(SHORT, byteOffset + 2 * i));
            case BF16 -> Float.intBitsToFloat(seg.get(SHORT, byteOffset + 2 * i) << 16);
            case I32 -> seg.get(INT, byteOffset + 4 * i);
            case I64 -> seg.get(LONG, byteOffset + 8 * i);
            case F64 -> (float) seg.get(DOUBLE, byteOffset + 8 * i);
            case Q8_0 -> {
                long block = byteOffset + (i / 32) * 34;
                float d = Float.float16ToFloat(seg.get(SHORT, block));
                yield d * seg.get(ValueLayout.JAVA_BYTE, block + 2 + i % 32);
            }
            case Q4_0 -> {
                long block = byteOffset + (i / 32) * 18;
                float d = Float.float16ToFloat(seg.get(SHORT, block));
                int j = (int) (i % 32);
                int b = seg.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)) & 0xFF;
                int q = j < 16 ? b & 0xF : b >>> 4;
                yield d * (q - 8);
            }
            case Q4_K -> {
                long block = byteOffset + (i / 256) * 144;
                int j = (int) (i % 256), sub = j / 32, chunk = j / 64, l = j % 32;
                int b = seg.get(ValueLayout.JAVA_BYTE, block + 16 + 32 * chunk + l) & 0xFF;
                int q = sub % 2 == 0 ? b & 0xF : b >>> 4;
                float d = Float.float16ToFloat(seg.get(SHORT, block)), dmin = Float.float16ToFloat(seg.get(SHORT, block + 2));
                yield d * q4kScale(seg, block + 4, sub) * q - dmin * q4kMin(seg, block + 4, sub);
            }
            case Q6_K -> {
                long block = byteOffset + (i / 256) * 210;
                int j = (int) (i % 256), half = j / 128, r = j % 128, quarter = r / 32, l = r % 32;
                int lo = seg.get(ValueLayout.JAVA_BYTE, block + 64 * half + l + (quarter % 2) * 32) & 0xFF;
                lo = quarter < 2 ? lo & 0xF : lo >>> 4;
                int hi = (seg.get(ValueLayout.JAVA_BYTE, block + 128 + 32 * half + l) >>> (2 * quarter)) & 3;
                int sc = seg.get(ValueLayout.JAVA_BYTE, block + 192 + 8 * half + 2 * quarter + l / 16);
                yield Float.float16ToFloat(seg.get(SHORT, block + 208)) * sc * ((lo | hi << 4) - 32);
            }
            case Q4_0_R16, Q8_0_R16 -> throw new IllegalArgumentException(t + " rows are not contiguous; read them with PackedQ4/PackedQ8");
        };
    }

    /** 6-bit scale of Q4_K sub-block j (0..7) from the 12 packed bytes at {@code s}. */
    static int q4kScale(MemorySegment seg, long s, int j) {
        return j < 4 ? u8(seg, s + j) & 63 : (u8(seg, s + j + 4) & 0xF) | (u8(seg, s + j - 4) >>> 6) << 4;
    }

    /** 6-bit min of Q4_K sub-block j. */
    static int q4kMin(MemorySegment seg, long s, int j) {
        return j < 4 ? u8(seg, s + j + 4) & 63 : (u8(seg, s + j + 4) >>> 4) | (u8(seg, s + j) >>> 6) << 4;
    }

    private static int u8(MemorySegment seg, long off) {
        return seg.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    public static void dequantize(DType t, MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        Dequant.checkBlocks(t, n);
        for (int i = 0; i < n; i++) dst[dstOff + i] = get(t, seg, byteOffset, i);
    }

    /** Sum of row[i] * x[xOff + i], accumulated in double so it can serve as the reference. */
    public static float dot(DType t, MemorySegment seg, long byteOffset, float[] x, int xOff, int n) {
        Dequant.checkBlocks(t, n);
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) get(t, seg, byteOffset, i) * x[xOff + i];
        return (float) s;
    }

    public static void matvec(DType t, MemorySegment seg, long byteOffset, int rows, int cols,
                              float[] x, int xOff, float[] out, int outOff) {
        long rowBytes = t.bytesFor(cols);
        for (int r = 0; r < rows; r++) out[outOff + r] = dot(t, seg, byteOffset + r * rowBytes, x, xOff, cols);
    }
}
