package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * A 2-D weight matrix {@code [rows, cols]} (a linear layer's {@code [out, in]}) viewed in place over a
 * tensor's bytes: one expert's slab of a merged 3-D tensor, half of a fused gate/up tensor, or a whole
 * 2-D tensor. Rows are {@code rowBytes} apart, except in the repacked types ({@link DType#isPacked}), whose rows
 * come interleaved in panels of {@value PackedQ4#PANEL}. Products go through {@link MatmulJob}, rows through the
 * type's {@link TypeKernels}.
 */
public final class Matrix {
    private final String name;
    private final DType dtype;
    private final MemorySegment data;
    private final long byteOffset;
    private final int rows;
    private final int cols;
    private final long rowBytes;

    public Matrix(String name, DType dtype, MemorySegment data, long byteOffset, int rows, int cols) {
        this.name = name;
        this.dtype = dtype;
        this.data = data;
        this.byteOffset = byteOffset;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = dtype.bytesFor(cols);
        long end = byteOffset + rowBytes * rows;
        if (end > data.byteSize()) {
            throw new IllegalArgumentException(name + ": view of " + rows + "x" + cols + " " + dtype
                    + " at byte " + byteOffset + " exceeds the tensor's " + data.byteSize() + " bytes");
        }
    }

    /** The whole of a 2-D tensor. */
    public static Matrix of(Tensor t) {
        if (t.rank() != 2) throw new IllegalArgumentException(t.name() + ": expected a 2-D tensor, got " + t.shapeString());
        return new Matrix(t.name(), t.dtype(), t.data(), 0, (int) t.dim(0), (int) t.dim(1));
    }

    /** Slab {@code index} of a 3-D tensor {@code [n, rows, cols]}. */
    public static Matrix slab(Tensor t, int index) {
        if (t.rank() != 3) throw new IllegalArgumentException(t.name() + ": expected a 3-D tensor, got " + t.shapeString());
        int rows = (int) t.dim(1), cols = (int) t.dim(2);
        long slabBytes = t.dtype().bytesFor((long) rows * cols);
        return new Matrix(t.name() + "[" + index + "]", t.dtype(), t.data(), slabBytes * index, rows, cols);
    }

    /** Rows {@code [from, from + count)} of this matrix, as a matrix of its own. */
    public Matrix rowRange(int from, int count) {
        if (dtype.isPacked() && (from % PackedQ4.PANEL != 0 || count % PackedQ4.PANEL != 0))
            throw new IllegalArgumentException(name + ": packed rows come in panels of " + PackedQ4.PANEL + ", cannot take rows " + from + "+" + count);
        return new Matrix(name + "[rows " + from + ".." + (from + count) + "]", dtype, data,
                byteOffset + rowBytes * from, count, cols);
    }

    public String name() { return name; }
    public DType dtype() { return dtype; }
    public int rows() { return rows; }
    public int cols() { return cols; }
    public long byteSize() { return rowBytes * rows; }
    public MemorySegment data() { return data; }
    public long byteOffset() { return byteOffset; }
    public long rowBytes() { return rowBytes; }

    /** out[outOff + r] = row r · x[xOff ..]. */
    public void matvec(float[] x, int xOff, float[] out, int outOff) {
        MatmulJob.get().add(this, x, xOff, out, outOff).execute(1);
    }

    /**
     * For n input rows {@code x[n, cols]} computes {@code out[n, rows] = x · thisᵀ}. Each weight row is
     * read once and applied to all n inputs while it is hot in cache.
     */
    public void matmul(float[] x, int n, float[] out) {
        MatmulJob.get().add(this, x, 0, out, 0).execute(n);
    }

    /** Row r as floats (embedding lookup). */
    public void row(int r, float[] dst, int dstOff) {
        TypeKernels.of(dtype).row(data, byteOffset, cols, r, dst, dstOff);
    }
}
