package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * GGML's MXFP4 (OCP microscaling FP4, as gpt-oss publishes its experts): blocks of 32 values, one E8M0 scale
 * byte e and 16 bytes of 4-bit e2m1 codes (value j in the low nibble of byte j, value j + 16 in its high
 * nibble), x = KVALUES[code] · 2^(e − 128), where KVALUES is the e2m1 grid doubled (ggml-common.h
 * {@code kvalues_mxfp4}, {@code ggml_e8m0_to_fp32_half}). The quantiser is GGML's reference
 * ({@code quantize_row_mxfp4_ref}): e = ⌊log2 amax⌋ − 2 + 127, each value to the nearest grid point.
 */
public final class Mxfp4Kernels extends TypeKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** The doubled e2m1 values, by 4-bit code (sign in bit 3). */
    static final byte[] KVALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    /** A block's 16 code bytes in one vector: the table lookup is one byte shuffle. */
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Float vectors per 16 values (one half of a block). */
    private static final int PARTS = 16 / L;
    private static final boolean VECTORISED = L <= 16;

    Mxfp4Kernels() {
        super(DType.MXFP4);
    }

    /** 2^(e − 128), the scale of the doubled grid (exact for every e, subnormal below e = 2). */
    static float scale(int e) {
        return e < 2 ? Float.intBitsToFloat(0x00200000 << e) : Float.intBitsToFloat((e - 1) << 23);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 32) * 17;
        int j = (int) (i % 32);
        int b = seg.get(ValueLayout.JAVA_BYTE, block + 1 + (j & 15)) & 0xFF;
        int code = j < 16 ? b & 0xF : b >>> 4;
        return KVALUES[code] * scale(seg.get(ValueLayout.JAVA_BYTE, block) & 0xFF);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) {
            referenceDequantize(seg, off, dst, dstOff, n);
            return;
        }
        ByteVector table = ByteVector.fromArray(B16, KVALUES, 0);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 17L * b;
            FloatVector d = FloatVector.broadcast(F, scale(seg.get(ValueLayout.JAVA_BYTE, blk) & 0xFF));
            ByteVector q = ByteVector.fromMemorySegment(B16, seg, blk + 1, LE);
            ByteVector lo = q.and((byte) 0xF).selectFrom(table);
            ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).selectFrom(table);
            int o = dstOff + 32 * b;
            for (int p = 0; p < PARTS; p++) {
                ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(dst, o + p * L);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(dst, o + 16 + p * L);
            }
        }
    }

    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        ByteVector table = ByteVector.fromArray(B16, KVALUES, 0);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 17L * b;
            float d = scale(seg.get(ValueLayout.JAVA_BYTE, blk) & 0xFF);
            ByteVector q = ByteVector.fromMemorySegment(B16, seg, blk + 1, LE);
            // Codes index the 16-entry table of doubled e2m1 values; LSHR on bytes is unsigned.
            ByteVector lo = q.and((byte) 0xF).selectFrom(table);
            ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).selectFrom(table);
            int xo = xOff + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int p = 0; p < PARTS; p++) {
                s = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).fma(FloatVector.fromArray(F, x, xo + p * L), s);
                s = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).fma(FloatVector.fromArray(F, x, xo + 16 + p * L), s);
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
            int e = amax > 0 ? (int) Math.floor(log2f(amax)) - 2 + 127 : 0;
            e = Math.clamp(e, 0, 254);
            float d = scale(e);
            long blk = dstOff + 17L * b;
            dst.set(ValueLayout.JAVA_BYTE, blk, (byte) e);
            for (int j = 0; j < 16; j++) {
                int q0 = bestIndex(src[o + j], d), q1 = bestIndex(src[o + 16 + j], d);
                dst.set(ValueLayout.JAVA_BYTE, blk + 1 + j, (byte) (q0 | q1 << 4));
            }
        }
    }

    /** log2 rounded to float, as C's log2f gives it (so ⌊log2f(2^k − ulp)⌋ is k where log2f rounds up to k). */
    private static float log2f(float v) {
        return (float) (Math.log(v) / Math.log(2));
    }

    /** The code whose value is nearest x, the first (lowest) code on a tie, as GGML's best_index_mxfp4. */
    static int bestIndex(float x, float d) {
        int best = 0;
        float bestErr = Math.abs(KVALUES[0] * d - x);
        for (int i = 1; i < 16; i++) {
            float err = Math.abs(KVALUES[i] * d - x);
            if (err < bestErr) {
                best = i;
                bestErr = err;
            }
        }
        return best;
    }

    /**
     * One row of {@code cols} values from the layout Hugging Face's gpt-oss checkpoints (and transformers'
     * {@code integrations/mxfp4.py}) use — {@code cols / 32} blocks of 16 bytes where value 2j is the low and value
     * 2j + 1 the high nibble of byte j, the E8M0 scales apart, one byte per block — into GGML MXFP4 blocks at
     * {@code dst}. Both layouts mean x = e2m1(code) · 2^(scale − 127), so only the nibbles move.
     */
    public static void repackHfRow(MemorySegment blocks, long blocksOff, MemorySegment scales, long scalesOff, int cols,
                                   MemorySegment dst, long dstOff) {
        for (int k = 0; k < cols / 32; k++) {
            long in = blocksOff + 16L * k, out = dstOff + 17L * k;
            dst.set(ValueLayout.JAVA_BYTE, out, scales.get(ValueLayout.JAVA_BYTE, scalesOff + k));
            for (int j = 0; j < 16; j++) {
                int lo = hfCode(blocks, in, j), hi = hfCode(blocks, in, j + 16);
                dst.set(ValueLayout.JAVA_BYTE, out + 1 + j, (byte) (lo | hi << 4));
            }
        }
    }

    /** Code of value i (0..31) of a Hugging Face block: byte i / 2, low nibble for even i. */
    private static int hfCode(MemorySegment blocks, long block, int i) {
        int b = blocks.get(ValueLayout.JAVA_BYTE, block + i / 2) & 0xFF;
        return (i & 1) == 0 ? b & 0xF : b >>> 4;
    }

    @Override
    public int ggufFileType() {
        return 38; // LLAMA_FTYPE_MOSTLY_MXFP4_MOE
    }
}
