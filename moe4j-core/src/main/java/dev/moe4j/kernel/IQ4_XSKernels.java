package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.IQ4_NLKernels.GRID;
import static dev.moe4j.kernel.IQ4_NLKernels.GRID_HIGH;
import static dev.moe4j.kernel.IQ4_NLKernels.GRID_V;
import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.B;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * GGML's IQ4_XS ({@code block_iq4_xs} in ggml-common.h): 256-value super-blocks of an f16 d, a 16-bit word of
 * high scale bits, 4 bytes of low scale nibbles and 128 bytes of 4-bit indexes into IQ4_NL's grid. Sub-block
 * s (32 values) has scale ((nibble s%2 of byte s/2) | (bits 2s..2s+1 of the word) &lt;&lt; 4) − 32 and its indexes in
 * bytes 16s..16s+15 (value 32s + j in the low nibble of byte 16s + j, 32s + 16 + j in the high);
 * x = (d·scale)·GRID[q], rounded as gguf-py's {@code IQ4_XS.dequantize_blocks}. No encoder.
 */
final class IQ4_XSKernels extends TileDotKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    IQ4_XSKernels() {
        super(DType.IQ4_XS);
    }

    /** Scale of sub-block s (0..7), −32..31. */
    private static int scale(MemorySegment seg, long block, int s) {
        int low = (seg.get(BYTE, block + 4 + s / 2) & 0xFF) >>> 4 * (s % 2) & 0xF;
        int high = (seg.get(SHORT, block + 2) & 0xFFFF) >>> 2 * s & 3;
        return (low | high << 4) - 32;
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 136;
        int j = (int) (i % 256), s = j / 32, k = j % 32;
        int b = seg.get(BYTE, block + 8 + 16 * s + (k & 15)) & 0xFF;
        float dl = Float.float16ToFloat(seg.get(SHORT, block)) * scale(seg, block, s);
        return dl * GRID[k < 16 ? b & 0xF : b >>> 4];
    }

    /**
     * Fused decode kernel: sub-block s adds d·scale_s·Σ GRID[q]·x; the grid values are looked up in byte lanes
     * (one shuffle), converted and multiply-added, and the scale applied once per sub-block.
     */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!IQ4_NLKernels.VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 136L * b;
            int high = seg.get(SHORT, blk + 2) & 0xFFFF, low = seg.get(LittleEndian.INT, blk + 4);
            FloatVector sum = FloatVector.zero(F);
            for (int s = 0; s < 8; s++) {
                long qs = blk + 8 + 16 * s;
                int xo = xOff + 256 * b + 32 * s;
                FloatVector t = FloatVector.zero(F);
                for (int j = 0; j < 16; j += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + j, LE);
                    ByteVector lo = q.and((byte) 0xF), hi = q.lanewise(VectorOperators.LSHR, 4);
                    lo = L == 16 ? lo.selectFrom(GRID_V) : lo.selectFrom(GRID_V, GRID_HIGH);
                    hi = L == 16 ? hi.selectFrom(GRID_V) : hi.selectFrom(GRID_V, GRID_HIGH);
                    t = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + j), t);
                    t = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 16 + j), t);
                }
                int ls = ((low >>> 4 * s) & 0xF | ((high >>> 2 * s) & 3) << 4) - 32;
                sum = t.fma(FloatVector.broadcast(F, (float) ls), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk))), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!IQ4_NLKernels.VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 136L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            for (int s = 0; s < 8; s++) {
                FloatVector dl = FloatVector.broadcast(F, d * scale(seg, blk, s));
                long qs = blk + 8 + 16 * s;
                int o = dstOff + 256 * b + 32 * s;
                for (int j = 0; j < 16; j += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + j, LE);
                    ByteVector lo = q.and((byte) 0xF), hi = q.lanewise(VectorOperators.LSHR, 4);
                    lo = L == 16 ? lo.selectFrom(GRID_V) : lo.selectFrom(GRID_V, GRID_HIGH);
                    hi = L == 16 ? hi.selectFrom(GRID_V) : hi.selectFrom(GRID_V, GRID_HIGH);
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(dl).intoArray(dst, o + j);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(dl).intoArray(dst, o + j + 16);
                }
            }
        }
    }
}
