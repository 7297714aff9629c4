package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Q5_0Kernels.BIT_INDEX;
import static dev.moe4j.kernel.Species.B;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.I;
import static dev.moe4j.kernel.Species.L;

/**
 * GGML's Q5_1 ({@code block_q5_1} in ggml-common.h): blocks of 32 values, an f16 scale d, an f16 offset m, a
 * 32-bit word qh of fifth bits and 16 bytes of low nibbles laid out as in {@link Q5_0Kernels}; x = d·q + m (the
 * product rounded, then the sum, as gguf-py does). The quantiser is GGML's reference
 * ({@code quantize_row_q5_1_ref}): d = (max − min)/31, m = min.
 */
final class Q5_1Kernels extends TileDotKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final boolean VECTORISED = B != null && L <= 16;

    Q5_1Kernels() {
        super(DType.Q5_1);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 32) * 24;
        int j = (int) (i % 32);
        int b = seg.get(BYTE, block + 8 + (j & 15)) & 0xFF;
        int q = (j < 16 ? b & 0xF : b >>> 4) | ((seg.get(INT, block + 4) >>> j) & 1) << 4;
        float d = Float.float16ToFloat(seg.get(SHORT, block)), m = Float.float16ToFloat(seg.get(SHORT, block + 2));
        return d * q + m;
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 24L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk)));
            FloatVector m = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk + 2)));
            IntVector qh = IntVector.broadcast(I, seg.get(INT, blk + 4));
            int o = dstOff + 32 * b;
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 8 + j, LE);
                IntVector lo = (IntVector) q.and((byte) 0xF).convertShape(VectorOperators.B2I, I, 0);
                IntVector hi = (IntVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2I, I, 0);
                IntVector hl = qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, BIT_INDEX, j)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector hh = qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, BIT_INDEX, j + 16)).and(1).lanewise(VectorOperators.LSHL, 4);
                ((FloatVector) lo.or(hl).convertShape(VectorOperators.I2F, F, 0)).mul(d).add(m).intoArray(dst, o + j);
                ((FloatVector) hi.or(hh).convertShape(VectorOperators.I2F, F, 0)).mul(d).add(m).intoArray(dst, o + j + 16);
            }
        }
    }

    /** Fused decode kernel: a block adds d·Σ q·x + m·Σ x; q is built in 32-bit lanes (low nibble | qh bit j &lt;&lt; 4). */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F), accM = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 24L * b;
            int xo = xOff + 32 * b;
            IntVector qh = IntVector.broadcast(I, seg.get(INT, blk + 4));
            FloatVector s = FloatVector.zero(F), xs = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 8 + j, LE);
                IntVector lo = (IntVector) q.and((byte) 0xF).convertShape(VectorOperators.B2I, I, 0);
                IntVector hi = (IntVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2I, I, 0);
                IntVector hl = qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, BIT_INDEX, j)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector hh = qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, BIT_INDEX, j + 16)).and(1).lanewise(VectorOperators.LSHL, 4);
                FloatVector xa = FloatVector.fromArray(F, x, xo + j), xb = FloatVector.fromArray(F, x, xo + 16 + j);
                s = ((FloatVector) lo.or(hl).convertShape(VectorOperators.I2F, F, 0)).fma(xa, s);
                s = ((FloatVector) hi.or(hh).convertShape(VectorOperators.I2F, F, 0)).fma(xb, s);
                xs = xs.add(xa).add(xb);
            }
            acc = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk))), acc);
            accM = xs.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk + 2))), accM);
        }
        return acc.add(accM).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int o = off + 32 * b;
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (int j = 0; j < 32; j++) {
                min = Math.min(min, src[o + j]);
                max = Math.max(max, src[o + j]);
            }
            float d = (max - min) / 31, id = d != 0 ? 1 / d : 0;
            long blk = dstOff + 24L * b;
            dst.set(SHORT, blk, Float.floatToFloat16(d));
            dst.set(SHORT, blk + 2, Float.floatToFloat16(min));
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(31, (int) ((src[o + j] - min) * id + 0.5f));
                int q1 = Math.min(31, (int) ((src[o + j + 16] - min) * id + 0.5f));
                dst.set(BYTE, blk + 8 + j, (byte) ((q0 & 0xF) | (q1 & 0xF) << 4));
                qh |= (q0 >>> 4) << j | (q1 >>> 4) << (j + 16);
            }
            dst.set(INT, blk + 4, qh);
        }
    }

    @Override
    public int ggufFileType() {
        return 9; // LLAMA_FTYPE_MOSTLY_Q5_1
    }
}
