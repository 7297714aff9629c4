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
 * GGML's IQ4_NL ({@code block_iq4_nl} in ggml-common.h): blocks of 32 values, an f16 d and 16 bytes of 4-bit
 * indexes (value j in the low nibble of byte j, value j + 16 in the high) into the non-linear grid
 * {@link #GRID} ({@code kvalues_iq4nl}); x = d·GRID[q]. No encoder.
 */
final class IQ4_NLKernels extends TileDotKernels {
    /** ggml's kvalues_iq4nl: the 16 levels of IQ4_NL and IQ4_XS. */
    static final byte[] GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    /** The grid is looked up with one 16-lane byte shuffle (L = 16) or a two-vector one (L = 8). */
    static final boolean VECTORISED = B != null && (L == 16 || L == 8);
    /** The grid as byte vectors: whole (L = 16), or its halves (L = 8). */
    static final ByteVector GRID_V = VECTORISED ? ByteVector.fromArray(B, GRID, 0) : null;
    static final ByteVector GRID_HIGH = VECTORISED && L == 8 ? ByteVector.fromArray(B, GRID, 8) : null;

    IQ4_NLKernels() {
        super(DType.IQ4_NL);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 32) * 18;
        int j = (int) (i % 32);
        int b = seg.get(BYTE, block + 2 + (j & 15)) & 0xFF;
        return Float.float16ToFloat(seg.get(SHORT, block)) * GRID[j < 16 ? b & 0xF : b >>> 4];
    }

    /** Fused decode kernel: a block adds d·Σ GRID[q]·x, the grid looked up in byte lanes. */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 18L * b;
            int xo = xOff + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 2 + j, LE);
                ByteVector lo = q.and((byte) 0xF), hi = q.lanewise(VectorOperators.LSHR, 4);
                lo = L == 16 ? lo.selectFrom(GRID_V) : lo.selectFrom(GRID_V, GRID_HIGH);
                hi = L == 16 ? hi.selectFrom(GRID_V) : hi.selectFrom(GRID_V, GRID_HIGH);
                s = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + j), s);
                s = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 16 + j), s);
            }
            acc = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk))), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 18L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk)));
            int o = dstOff + 32 * b;
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 2 + j, LE);
                ByteVector lo = q.and((byte) 0xF), hi = q.lanewise(VectorOperators.LSHR, 4);
                lo = L == 16 ? lo.selectFrom(GRID_V) : lo.selectFrom(GRID_V, GRID_HIGH);
                hi = L == 16 ? hi.selectFrom(GRID_V) : hi.selectFrom(GRID_V, GRID_HIGH);
                ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, o + j);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, o + j + 16);
            }
        }
    }
}
