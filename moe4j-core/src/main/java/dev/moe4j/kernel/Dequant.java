package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Reading weights of any {@link DType} as floats: whole rows ({@link #dequantize}), single elements
 * ({@link #get}) and the row·vector product ({@link #dot}) that matmul is built on. Each call goes to the
 * type's {@link TypeKernels}, where the vectorised kernels live; callers that run many rows of one type can
 * take {@link TypeKernels#of} once instead.
 *
 * <p>Rows start at a byte offset into a segment; for block types that offset is a block boundary and
 * {@code n} a whole number of blocks, else {@link IllegalArgumentException}.
 */
public final class Dequant {
    private Dequant() {}

    /** Element {@code i} of the values starting at {@code byteOffset} (the scalar reference reader). */
    public static float get(DType t, MemorySegment seg, long byteOffset, long i) {
        return TypeKernels.of(t).get(seg, byteOffset, i);
    }

    /** Converts {@code n} values starting at {@code byteOffset} into {@code dst[dstOff..]}. */
    public static void dequantize(DType t, MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        TypeKernels.of(t).dequantize(seg, byteOffset, dst, dstOff, n);
    }

    /** Sum over i of row[i] * x[xOff + i] for the {@code n} values starting at {@code byteOffset}. */
    public static float dot(DType t, MemorySegment seg, long byteOffset, float[] x, int xOff, int n) {
        return TypeKernels.of(t).dot(seg, byteOffset, x, xOff, n);
    }

    /** out[outOff + r] = dot(row r, x) for rows of {@code cols} values laid out back to back. */
    public static void matvec(DType t, MemorySegment seg, long byteOffset, int rows, int cols,
                              float[] x, int xOff, float[] out, int outOff) {
        TypeKernels k = TypeKernels.of(t);
        long rowBytes = t.bytesFor(cols);
        for (int r = 0; r < rows; r++) out[outOff + r] = k.dot(seg, byteOffset + r * rowBytes, x, xOff, cols);
    }
}
