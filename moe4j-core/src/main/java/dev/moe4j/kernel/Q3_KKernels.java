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
 * GGML's Q3_K ({@code block_q3_K} in ggml-common.h): 256-value super-blocks of a 32-byte high-bit mask, 64
 * bytes of low 2-bit q, 12 bytes of sixteen 6-bit scales and an f16 d. Value j = 128h + 32s + l is bits 2s..2s+1
 * of q byte 32h + l, minus 4 unless bit j/32 of mask byte l is set; sub-block g = j/16 has scale
 * (low nibble of byte g, or high nibble of byte g − 8, for g ≥ 8) | (bits 2(g/4).. of byte 8 + g%4) &lt;&lt; 4, minus 32;
 * x = (d·scale)·q, rounded as gguf-py's {@code Q3_K.dequantize_blocks}. No encoder.
 */
final class Q3_KKernels extends TileDotKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final boolean VECTORISED = B != null && L <= 16;

    Q3_KKernels() {
        super(DType.Q3_K);
    }

    /** Scale of sub-block g (0..15), −32..31, from the 12 bytes at {@code s}. */
    private static int scale(MemorySegment seg, long s, int g) {
        int low = g < 8 ? seg.get(BYTE, s + g) & 0xF : (seg.get(BYTE, s + g - 8) & 0xFF) >>> 4;
        int high = (seg.get(BYTE, s + 8 + g % 4) & 0xFF) >>> 2 * (g / 4) & 3;
        return (low | high << 4) - 32;
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 110;
        int j = (int) (i % 256), h = j / 128, s = j % 128 / 32, l = j % 32;
        int low = (seg.get(BYTE, block + 32 + 32 * h + l) & 0xFF) >>> 2 * s & 3;
        int high = (seg.get(BYTE, block + l) & 0xFF) >>> j / 32 & 1;
        float dl = Float.float16ToFloat(seg.get(SHORT, block + 108)) * scale(seg, block + 96, j / 16);
        return dl * (low - ((high ^ 1) << 2));
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 110L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk + 108));
            // The scale bytes as three words, unpacked inline: a helper call here made C2 give up inlining the
            // vector operations below (every vector boxed, ~45 KB allocated per 512 values).
            int u0 = seg.get(LittleEndian.INT, blk + 96), u1 = seg.get(LittleEndian.INT, blk + 100), u2 = seg.get(LittleEndian.INT, blk + 104);
            for (int g = 0; g < 16; g++) {
                int scLow = ((g % 8 < 4 ? u0 : u1) >>> 8 * (g % 4) + (g >= 8 ? 4 : 0)) & 0xF;
                int scHigh = (u2 >>> 8 * (g % 4) + 2 * (g / 4)) & 3;
                FloatVector dl = FloatVector.broadcast(F, d * ((scLow | scHigh << 4) - 32));
                int shift = 2 * (g % 8 / 2);
                byte bitMask = (byte) (1 << g / 2);
                ByteVector four = ByteVector.broadcast(B, (byte) 4);
                long qs = blk + 32 + 32 * (g / 8) + 16 * (g % 2), hm = blk + 16 * (g % 2);
                int o = dstOff + 256 * b + 16 * g;
                for (int k = 0; k < 16; k += L) {
                    // Shifts in 32-bit lanes: a byte-lane shift by a variable count is not intrinsified (2-4x slower).
                    ByteVector low = ByteVector.fromMemorySegment(B, seg, qs + k, LE)
                            .reinterpretAsInts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes().and((byte) 3);
                    // q = low − 4 where the mask bit is clear: by compare and blend, no byte-lane shift.
                    ByteVector high = ByteVector.fromMemorySegment(B, seg, hm + k, LE);
                    ByteVector q = low.sub(four.blend((byte) 0, high.and(bitMask).compare(VectorOperators.NE, (byte) 0)));
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(dl).intoArray(dst, o + k);
                }
            }
        }
    }
}
