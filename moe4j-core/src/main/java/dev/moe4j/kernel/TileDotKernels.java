package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * A block type whose row·vector dot product runs in two vector passes per {@value #TILE} values: its vector
 * {@link #dequantizeBlocks} into a per-thread float tile that stays in L1, then a fused multiply-add loop over the
 * tile and x. No vector crosses a method boundary (the tile is an array), so neither pass depends on C2 inlining
 * the other. Types with a fused kernel of their own override {@link #dotBlocks}; prefill goes through
 * {@link Gemm#rows}, which dequantises rows into a tile and multiplies it with several tokens at once.
 */
abstract class TileDotKernels extends TypeKernels {
    /** Values dequantised per pass: one K-quant super-block, or eight 32-value blocks. */
    static final int TILE = 256;
    private static final ThreadLocal<float[]> TILES = ThreadLocal.withInitial(() -> new float[TILE]);

    TileDotKernels(DType type) {
        super(type);
    }

    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        float[] tile = TILES.get();
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        float tail = 0;
        for (int done = 0; done < n; done += TILE) {
            int m = Math.min(TILE, n - done);
            dequantizeBlocks(seg, off + type.bytesFor(done), tile, 0, m);
            int i = 0, xo = xOff + done;
            for (int end = m - m % (2 * L); i < end; i += 2 * L) {
                a0 = FloatVector.fromArray(F, tile, i).fma(FloatVector.fromArray(F, x, xo + i), a0);
                a1 = FloatVector.fromArray(F, tile, i + L).fma(FloatVector.fromArray(F, x, xo + i + L), a1);
            }
            for (int end = m - m % L; i < end; i += L)
                a0 = FloatVector.fromArray(F, tile, i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            for (; i < m; i++) tail += tile[i] * x[xo + i];   // only where L does not divide the block size
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD) + tail;
    }
}
