package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.B;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * GGML's Q8_0: blocks of 32 values, an f16 scale d and 32 signed bytes q, x = d · q. The quantiser is
 * GGML's reference ({@code quantize_row_q8_0_ref} in ggml-quants.c), rounding for rounding, so files match
 * llama.cpp's bit for bit. Its repacked in-memory form is {@link PackedQ8}.
 */
final class Q8_0Kernels extends TypeKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** The vector kernels take a block in whole byte vectors. */
    private static final boolean VECTORISED = B != null && L <= 32;

    Q8_0Kernels() {
        super(DType.Q8_0);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 32) * 34;
        float d = Float.float16ToFloat(seg.get(SHORT, block));
        return d * seg.get(ValueLayout.JAVA_BYTE, block + 2 + i % 32);
    }

    // Prefill dequantises weight rows into a float tile once per 4 tokens; doing it lane-parallel keeps that
    // cost well below the tile's multiply-adds.
    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) {
            for (int b = 0; b < n / 32; b++) {
                long blk = off + 34L * b;
                float d = Float.float16ToFloat(seg.get(SHORT, blk));
                int o = dstOff + 32 * b;
                for (int j = 0; j < 32; j++) dst[o + j] = d * seg.get(ValueLayout.JAVA_BYTE, blk + 2 + j);
            }
            return;
        }
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 34L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk)));
            int o = dstOff + 32 * b;
            for (int j = 0; j < 32; j += L) {
                ((FloatVector) ByteVector.fromMemorySegment(B, seg, blk + 2 + j, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d).intoArray(dst, o + j);
            }
        }
    }

    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 34L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            int xo = xOff + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, seg, blk + 2 + j, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                s = q.fma(FloatVector.fromArray(F, x, xo + j), s);
            }
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int o = off + 32 * b;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[o + j]));
            float d = amax / 127;
            float id = d != 0 ? 1 / d : 0;
            long blk = dstOff + 34L * b;
            dst.set(SHORT, blk, Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) dst.set(ValueLayout.JAVA_BYTE, blk + 2 + j, (byte) roundHalfAway(src[o + j] * id));
        }
    }

    /** C's roundf: halves go away from zero (Math.round would send -2.5 to -2). */
    private static int roundHalfAway(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -a : a);
    }

    @Override
    public int ggufFileType() {
        return 7; // LLAMA_FTYPE_MOSTLY_Q8_0
    }
}
