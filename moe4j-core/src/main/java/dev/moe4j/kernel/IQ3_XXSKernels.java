package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.moe4j.kernel.IqGrids.F8;
import static dev.moe4j.kernel.IqGrids.HIGH_HALF;
import static dev.moe4j.kernel.IqGrids.I8;
import static dev.moe4j.kernel.IqGrids.IQ3XXS;
import static dev.moe4j.kernel.IqGrids.KSIGN_BITS;
import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.LONG;
import static dev.moe4j.kernel.LittleEndian.SHORT;

/**
 * GGML's IQ3_XXS ({@code block_iq3_xxs} in ggml-common.h, 3.06 bits per weight): 98-byte blocks of 256 values:
 * an f16 d, 64 bytes of indices into {@link IqGrids#IQ3XXS} (4 values each, so two per group of 8), then one
 * 32-bit word w per sub-block of 32 holding its 4 groups' 7-bit sign indices (bits 7l..7l+6, 8th sign the parity)
 * and a scale s = w >>> 28. Value k of group l: d·(0.5 + s)·0.5 · grid[k] · sign_k ({@code dequantize_row_iq3_xxs}).
 */
final class IQ3_XXSKernels extends TypeKernels {
    IQ3_XXSKernels() {
        super(DType.IQ3_XXS);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 98;
        int j = (int) (i % 256), sub = j / 32, group = j % 32 / 8, k = j % 8;
        int index = seg.get(ValueLayout.JAVA_BYTE, block + 2 + j / 4) & 0xFF;   // the 4-value half holding j
        int w = seg.get(INT, block + 66 + 4 * sub);
        float d = Float.float16ToFloat(seg.get(SHORT, block));
        float db = d * (0.5f + (w >>> 28)) * 0.5f;
        return db * IQ3XXS[4 + 4 * index + k % 4] * IqGrids.sign(IqGrids.ksigns(w >>> 7 * group & 127), k);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!IqGrids.VECTORS_OF_8) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 98L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            for (int sub = 0; sub < 8; sub++) {
                long q = seg.get(LONG, blk + 2 + 8 * sub);
                int w = seg.get(INT, blk + 66 + 4 * sub);
                FloatVector db = FloatVector.broadcast(F8, d * (0.5f + (w >>> 28)) * 0.5f);
                int o = dstOff + 256 * b + 32 * sub;
                for (int l = 0; l < 4; l++) {
                    int q2 = (int) (q >>> 16 * l);
                    // Entries q2 & 0xFF (lanes 0-3) and q2 >>> 8 & 0xFF (lanes 4-7): see IqGrids.IQ3XXS's padding.
                    FloatVector g = FloatVector.fromArray(F8, IQ3XXS, 4 + 4 * (q2 & 0xFF))
                            .blend(FloatVector.fromArray(F8, IQ3XXS, 4 * (q2 >>> 8 & 0xFF)), HIGH_HALF);
                    g.reinterpretAsInts().lanewise(VectorOperators.XOR, IntVector.fromArray(I8, KSIGN_BITS, 8 * (w >>> 7 * l & 127)))
                            .reinterpretAsFloats().mul(db).intoArray(dst, o + 8 * l);
                }
            }
        }
    }

    /** Per sub-block Σ (±grid)·x over its 4 groups, times the sub-block's scale once. */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!IqGrids.VECTORS_OF_8) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 98L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk)) * 0.5f;
            for (int sub = 0; sub < 8; sub++) {
                long q = seg.get(LONG, blk + 2 + 8 * sub);
                int w = seg.get(INT, blk + 66 + 4 * sub), xo = xOff + 256 * b + 32 * sub;
                FloatVector s = FloatVector.zero(F8);
                for (int l = 0; l < 4; l++) {
                    int q2 = (int) (q >>> 16 * l);
                    FloatVector g = FloatVector.fromArray(F8, IQ3XXS, 4 + 4 * (q2 & 0xFF))
                            .blend(FloatVector.fromArray(F8, IQ3XXS, 4 * (q2 >>> 8 & 0xFF)), HIGH_HALF);
                    s = g.reinterpretAsInts().lanewise(VectorOperators.XOR, IntVector.fromArray(I8, KSIGN_BITS, 8 * (w >>> 7 * l & 127)))
                            .reinterpretAsFloats().fma(FloatVector.fromArray(F8, x, xo + 8 * l), s);
                }
                acc = s.fma(FloatVector.broadcast(F8, d * (0.5f + (w >>> 28))), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
