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
import static dev.moe4j.kernel.Species.B;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.I;
import static dev.moe4j.kernel.Species.L;

/**
 * GGML's Q5_0 ({@code block_q5_0} in ggml-common.h): blocks of 32 values, an f16 scale d, a little-endian
 * 32-bit word qh whose bit j is the fifth bit of value j, and 16 bytes of low nibbles (value j in the low nibble
 * of byte j, value j + 16 in its high nibble); x = d·(q − 16). The quantiser is GGML's reference
 * ({@code quantize_row_q5_0_ref}): d = −(the value of largest magnitude)/16.
 */
final class Q5_0Kernels extends TileDotKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final boolean VECTORISED = B != null && L <= 16;
    /** 0..31: lane k of the vector loaded at j shifts qh right by j + k. */
    static final int[] BIT_INDEX = new int[32];
    static {
        for (int i = 0; i < 32; i++) BIT_INDEX[i] = i;
    }

    Q5_0Kernels() {
        super(DType.Q5_0);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 32) * 22;
        int j = (int) (i % 32);
        int b = seg.get(BYTE, block + 6 + (j & 15)) & 0xFF;
        int q = (j < 16 ? b & 0xF : b >>> 4) | ((seg.get(INT, block + 2) >>> j) & 1) << 4;
        return Float.float16ToFloat(seg.get(SHORT, block)) * (q - 16);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 22L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk)));
            IntVector qh = IntVector.broadcast(I, seg.get(INT, blk + 2));
            int o = dstOff + 32 * b;
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 6 + j, LE);
                IntVector lo = (IntVector) q.and((byte) 0xF).convertShape(VectorOperators.B2I, I, 0);
                IntVector hi = (IntVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2I, I, 0);
                IntVector hl = qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, BIT_INDEX, j)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector hh = qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, BIT_INDEX, j + 16)).and(1).lanewise(VectorOperators.LSHL, 4);
                ((FloatVector) lo.or(hl).sub(16).convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(dst, o + j);
                ((FloatVector) hi.or(hh).sub(16).convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(dst, o + j + 16);
            }
        }
    }

    /** Fused decode kernel: a block adds d·Σ (q − 16)·x; q is built in 32-bit lanes (low nibble | qh bit j &lt;&lt; 4). */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F), accM = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 22L * b;
            int xo = xOff + 32 * b;
            IntVector qh = IntVector.broadcast(I, seg.get(INT, blk + 2));
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 6 + j, LE);
                IntVector lo = (IntVector) q.and((byte) 0xF).convertShape(VectorOperators.B2I, I, 0);
                IntVector hi = (IntVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2I, I, 0);
                IntVector hl = qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, BIT_INDEX, j)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector hh = qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(I, BIT_INDEX, j + 16)).and(1).lanewise(VectorOperators.LSHL, 4);
                FloatVector xa = FloatVector.fromArray(F, x, xo + j), xb = FloatVector.fromArray(F, x, xo + 16 + j);
                s = ((FloatVector) lo.or(hl).sub(16).convertShape(VectorOperators.I2F, F, 0)).fma(xa, s);
                s = ((FloatVector) hi.or(hh).sub(16).convertShape(VectorOperators.I2F, F, 0)).fma(xb, s);
            }
            acc = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk))), acc);
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
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++) {
                if (amax < Math.abs(src[o + j])) {
                    amax = Math.abs(src[o + j]);
                    max = src[o + j];
                }
            }
            float d = max / -16, id = d != 0 ? 1 / d : 0;
            long blk = dstOff + 22L * b;
            dst.set(SHORT, blk, Float.floatToFloat16(d));
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                // (int) truncates like GGML's cast; + 16.5 rounds the non-negative value to nearest.
                int q0 = Math.min(31, (int) (src[o + j] * id + 16.5f));
                int q1 = Math.min(31, (int) (src[o + j + 16] * id + 16.5f));
                dst.set(BYTE, blk + 6 + j, (byte) ((q0 & 0xF) | (q1 & 0xF) << 4));
                qh |= (q0 >>> 4) << j | (q1 >>> 4) << (j + 16);
            }
            dst.set(INT, blk + 2, qh);
        }
    }

    @Override
    public int ggufFileType() {
        return 8; // LLAMA_FTYPE_MOSTLY_Q5_0
    }
}
