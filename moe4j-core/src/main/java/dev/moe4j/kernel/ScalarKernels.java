package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Plain, obviously-correct loops for every {@link DType}, over each type's scalar element reader
 * {@link TypeKernels#get}. They define what the vectorised kernels must compute and are what the tests
 * compare against; keep them simple rather than fast.
 */
public final class ScalarKernels {
    private ScalarKernels() {}

    /** Element {@code i} of the values that start at {@code byteOffset}. */
    public static float get(DType t, MemorySegment seg, long byteOffset, long i) {
        return TypeKernels.of(t).get(seg, byteOffset, i);
    }

    public static void dequantize(DType t, MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        TypeKernels.of(t).referenceDequantize(seg, byteOffset, dst, dstOff, n);
    }

    /** Sum of row[i] * x[xOff + i], accumulated in double so it can serve as the reference. */
    public static float dot(DType t, MemorySegment seg, long byteOffset, float[] x, int xOff, int n) {
        return TypeKernels.of(t).referenceDot(seg, byteOffset, x, xOff, n);
    }

    public static void matvec(DType t, MemorySegment seg, long byteOffset, int rows, int cols,
                              float[] x, int xOff, float[] out, int outOff) {
        long rowBytes = t.bytesFor(cols);
        for (int r = 0; r < rows; r++) out[outOff + r] = dot(t, seg, byteOffset + r * rowBytes, x, xOff, cols);
    }
}
