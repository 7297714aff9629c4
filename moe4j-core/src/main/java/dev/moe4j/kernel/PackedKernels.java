package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * The repacked in-memory types {@link DType#Q4_0_R16}, {@link DType#Q8_0_R16}, {@link DType#Q4_K_R16} and
 * {@link DType#Q6_K_R16}: rows come in interleaved panels of 16, so a row is not a run of bytes and there is no
 * flat element index. Their matrix kernels are {@link PackedQ4}, {@link PackedQ8}, {@link PackedQ4K},
 * {@link PackedQ6K}, {@link Q4Prefill} and
 * {@link PanelGemm}, which {@link Gemm} and
 * {@link MatmulJob} call; here only whole rows are read ({@link #row}), and everything addressed by a byte
 * offset fails with an {@link IllegalArgumentException} saying so.
 */
final class PackedKernels extends TypeKernels {

    PackedKernels(DType type) {
        super(type);
        if (!type.isPacked()) throw new IllegalArgumentException(type + " is not a packed type");
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        throw notContiguous();
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        throw notContiguous();
    }

    @Override
    protected float dotBlocks(MemorySegment seg, long byteOffset, float[] x, int xOff, int n) {
        throw notContiguous();
    }

    /** Row {@code r} of the packed matrix at {@code byteOffset} (rare: embedding tables stay unpacked, so plain). */
    @Override
    public void row(MemorySegment seg, long byteOffset, int cols, int r, float[] dst, int dstOff) {
        switch (type) {
            case Q4_0_R16 -> PackedQ4.row(seg, byteOffset, cols, r, dst, dstOff);
            case Q8_0_R16 -> PackedQ8.row(seg, byteOffset, cols, r, dst, dstOff);
            case Q4_K_R16 -> PackedQ4K.row(seg, byteOffset, cols, r, dst, dstOff);
            default -> PackedQ6K.row(seg, byteOffset, cols, r, dst, dstOff);
        }
    }

    private IllegalArgumentException notContiguous() {
        return new IllegalArgumentException(type + " rows are not contiguous; read them as matrix rows (PackedQ4, PackedQ8, PackedQ4K, PackedQ6K)");
    }
}
