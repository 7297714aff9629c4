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
 * GGML's Q2_K ({@code block_q2_K} in ggml-common.h): 256-value super-blocks of 16 bytes of sub-block scales
 * (one per 16 values: scale in the low nibble, min in the high), 64 bytes of 2-bit q, an f16 d and an f16 dmin.
 * Value j = 128h + 32s + l (h &lt; 2, s &lt; 4, l &lt; 32) is bits 2s..2s+1 of q byte 32h + l, in sub-block j/16;
 * x = (d·scale)·q − (dmin·min), rounded step by step as gguf-py's {@code Q2_K.dequantize_blocks}. No encoder.
 *
 * <p>Bit fields are shifted in 32-bit lanes and masked per byte: C2 does not intrinsify a byte-lane shift by a
 * count that is not a constant, and such a kernel ran 2–4× slower.
 */
final class Q2_KKernels extends TileDotKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final boolean VECTORISED = B != null && L <= 16;

    Q2_KKernels() {
        super(DType.Q2_K);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 84;
        int j = (int) (i % 256), h = j / 128, s = j % 128 / 32, l = j % 32;
        int sc = seg.get(BYTE, block + j / 16) & 0xFF;
        int q = (seg.get(BYTE, block + 16 + 32 * h + l) & 0xFF) >>> 2 * s & 3;
        float d = Float.float16ToFloat(seg.get(SHORT, block + 80)), dmin = Float.float16ToFloat(seg.get(SHORT, block + 82));
        return d * (sc & 0xF) * q - dmin * (sc >>> 4);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 84L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk + 80)), dmin = Float.float16ToFloat(seg.get(SHORT, blk + 82));
            for (int g = 0; g < 16; g++) {
                int sc = seg.get(BYTE, blk + g) & 0xFF, shift = 2 * (g % 8 / 2);
                FloatVector dl = FloatVector.broadcast(F, d * (sc & 0xF)), ml = FloatVector.broadcast(F, dmin * (sc >>> 4));
                long qs = blk + 16 + 32 * (g / 8) + 16 * (g % 2);
                int o = dstOff + 256 * b + 16 * g;
                for (int k = 0; k < 16; k += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + k, LE)
                            .reinterpretAsInts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes().and((byte) 3);
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(dl).sub(ml).intoArray(dst, o + k);
                }
            }
        }
    }
}
