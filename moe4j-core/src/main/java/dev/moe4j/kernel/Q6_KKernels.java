package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.LONG;
import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.B;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * GGML's Q6_K ({@code block_q6_K} in ggml-common.h): 256-value super-blocks of 128 bytes of low nibbles, 64
 * bytes of high 2-bit pairs, 16 int8 scales (sub-blocks of 16) and an f16 d; x = d·scale·(q − 32).
 *
 * <p>The quantiser produces the reference layout (llama.cpp reads it) but chooses scales with a plain max
 * rule instead of ggml's iterative error search, so its error is a little higher than llama-quantize's.
 */
final class Q6_KKernels extends TypeKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    /** The vector kernels need byte species B with L lanes, L dividing 16 (a scale covers 16 values). */
    private static final boolean VECTORISED = B != null && L <= 16;

    Q6_KKernels() {
        super(DType.Q6_K);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 210;
        int j = (int) (i % 256), half = j / 128, r = j % 128, quarter = r / 32, l = r % 32;
        int lo = seg.get(BYTE, block + 64 * half + l + (quarter % 2) * 32) & 0xFF;
        lo = quarter < 2 ? lo & 0xF : lo >>> 4;
        int hi = (seg.get(BYTE, block + 128 + 32 * half + l) >>> (2 * quarter)) & 3;
        int sc = seg.get(BYTE, block + 192 + 8 * half + 2 * quarter + l / 16);
        return Float.float16ToFloat(seg.get(SHORT, block + 208)) * sc * ((lo | hi << 4) - 32);
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    public int ggufFileType() {
        return 18; // LLAMA_FTYPE_MOSTLY_Q6_K
    }

    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        float[] scale = new float[16];
        int[] q = new int[256];
        for (int b = 0; b < n / 256; b++) {
            int o = off + 256 * b;
            float maxScale = 0;
            for (int j = 0; j < 16; j++) {
                float amax = 0, max = 0;
                for (int i = 0; i < 16; i++) {
                    float v = src[o + 16 * j + i];
                    if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
                }
                scale[j] = max / -32; // the largest magnitude maps to -32, the grid's extra negative step
                if (Math.abs(scale[j]) > Math.abs(maxScale)) maxScale = scale[j];
            }
            long blk = dstOff + 210L * b;
            float iscale = maxScale != 0 ? -128 / maxScale : 0;
            short dh = Float.floatToFloat16(maxScale != 0 ? 1 / iscale : 0);
            float dq = Float.float16ToFloat(dh);
            dst.set(SHORT, blk + 208, dh);
            for (int j = 0; j < 16; j++) {
                int sc = Math.min(127, Math.round(iscale * scale[j]));
                dst.set(BYTE, blk + 192 + j, (byte) sc);
                float ds = dq * sc;
                for (int i = 0; i < 16; i++) {
                    q[16 * j + i] = ds == 0 ? 32 : Math.clamp(Math.round(src[o + 16 * j + i] / ds), -32, 31) + 32;
                }
            }
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l++) {
                    int q1 = q[128 * h + l], q2 = q[128 * h + 32 + l], q3 = q[128 * h + 64 + l], q4 = q[128 * h + 96 + l];
                    dst.set(BYTE, blk + 64 * h + l, (byte) ((q1 & 0xF) | (q3 & 0xF) << 4));
                    dst.set(BYTE, blk + 64 * h + 32 + l, (byte) ((q2 & 0xF) | (q4 & 0xF) << 4));
                    dst.set(BYTE, blk + 128 + 32 * h + l, (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6));
                }
            }
        }
    }

    // A Q6_K half-block (128 values) is 64 bytes of low nibbles ql and 32 bytes of high bit pairs qh. Value
    // 32k + l (quarter k = 0..3, l = 0..31) has its low nibble in ql[32(k % 2) + l] (low for k < 2, high for
    // k >= 2) and its top two bits at bits 2k..2k+1 of qh[l]; scale 2k + l/16 of the half's 8 applies. So one
    // load of ql and one of qh give quarters k and k+2 (k = 0, 1). Both kernels take, per step, those two
    // quarters of both halves: one short loop whose body holds only Vector API calls, which C2 inlines
    // whatever the method's size (helpers of our own can hit its inlining node cutoff and box the vectors).
    // Shifts are done on int lanes (x86 has no byte shift) and masked per byte.

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 210L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk + 208));
            long scA = seg.get(LONG, blk + 192), scB = seg.get(LONG, blk + 200);
            int o = dstOff + 256 * b;
            for (int p = 0; p < 64; p += 2 * L) {
                // p = 32k + l: scale byte 2k + l/16 = p/16 (and 4 more for quarter k+2); pair shift 2k.
                int hs = (p >>> 4) & 2, sh = (p >>> 1) & 0x38;
                long ql = blk + p, qh = blk + 128 + (p & 31);
                ByteVector va = ByteVector.fromMemorySegment(B, seg, ql, LE), ha = ByteVector.fromMemorySegment(B, seg, qh, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs).reinterpretAsBytes();
                ByteVector vb = ByteVector.fromMemorySegment(B, seg, ql + 64, LE), hb = ByteVector.fromMemorySegment(B, seg, qh + 32, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs).reinterpretAsBytes();
                ((FloatVector) va.and((byte) 0xF).or(ha.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scA >>> sh)).intoArray(dst, o + p);
                ((FloatVector) va.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(ha.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scA >>> (sh + 32))).intoArray(dst, o + 64 + p);
                ((FloatVector) vb.and((byte) 0xF).or(hb.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scB >>> sh)).intoArray(dst, o + 128 + p);
                ((FloatVector) vb.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(hb.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scB >>> (sh + 32))).intoArray(dst, o + 192 + p);
                int hs2 = ((p + L) >>> 4) & 2, sh2 = ((p + L) >>> 1) & 0x38;
                long ql2 = blk + p + L, qh2 = blk + 128 + ((p + L) & 31);
                ByteVector va2 = ByteVector.fromMemorySegment(B, seg, ql2, LE), ha2 = ByteVector.fromMemorySegment(B, seg, qh2, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs2).reinterpretAsBytes();
                ByteVector vb2 = ByteVector.fromMemorySegment(B, seg, ql2 + 64, LE), hb2 = ByteVector.fromMemorySegment(B, seg, qh2 + 32, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs2).reinterpretAsBytes();
                ((FloatVector) va2.and((byte) 0xF).or(ha2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scA >>> sh2)).intoArray(dst, o + p + L);
                ((FloatVector) va2.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(ha2.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scA >>> (sh2 + 32))).intoArray(dst, o + 64 + p + L);
                ((FloatVector) vb2.and((byte) 0xF).or(hb2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scB >>> sh2)).intoArray(dst, o + 128 + p + L);
                ((FloatVector) vb2.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(hb2.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scB >>> (sh2 + 32))).intoArray(dst, o + 192 + p + L);
            }
        }
    }

    /**
     * The int8 scale is applied
     * per vector, d once per super-block.
     */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 210L * b;
            long scA = seg.get(LONG, blk + 192), scB = seg.get(LONG, blk + 200);
            int xo = xOff + 256 * b;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F), t2 = FloatVector.zero(F), t3 = FloatVector.zero(F);
            for (int p = 0; p < 64; p += 2 * L) {
                // p = 32k + l: scale byte 2k + l/16 = p/16 (and 4 more for quarter k+2); pair shift 2k.
                int hs = (p >>> 4) & 2, sh = (p >>> 1) & 0x38;
                long ql = blk + p, qh = blk + 128 + (p & 31);
                ByteVector va = ByteVector.fromMemorySegment(B, seg, ql, LE), ha = ByteVector.fromMemorySegment(B, seg, qh, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs).reinterpretAsBytes();
                ByteVector vb = ByteVector.fromMemorySegment(B, seg, ql + 64, LE), hb = ByteVector.fromMemorySegment(B, seg, qh + 32, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs).reinterpretAsBytes();
                s0 = ((FloatVector) va.and((byte) 0xF).or(ha.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + p)).fma(FloatVector.broadcast(F, I8[(int) (scA >>> sh) & 0xFF]), s0);
                s1 = ((FloatVector) va.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(ha.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 64 + p)).fma(FloatVector.broadcast(F, I8[(int) (scA >>> (sh + 32)) & 0xFF]), s1);
                s2 = ((FloatVector) vb.and((byte) 0xF).or(hb.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 128 + p)).fma(FloatVector.broadcast(F, I8[(int) (scB >>> sh) & 0xFF]), s2);
                s3 = ((FloatVector) vb.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(hb.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 192 + p)).fma(FloatVector.broadcast(F, I8[(int) (scB >>> (sh + 32)) & 0xFF]), s3);
                int hs2 = ((p + L) >>> 4) & 2, sh2 = ((p + L) >>> 1) & 0x38;
                long ql2 = blk + p + L, qh2 = blk + 128 + ((p + L) & 31);
                ByteVector va2 = ByteVector.fromMemorySegment(B, seg, ql2, LE), ha2 = ByteVector.fromMemorySegment(B, seg, qh2, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs2).reinterpretAsBytes();
                ByteVector vb2 = ByteVector.fromMemorySegment(B, seg, ql2 + 64, LE), hb2 = ByteVector.fromMemorySegment(B, seg, qh2 + 32, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs2).reinterpretAsBytes();
                t0 = ((FloatVector) va2.and((byte) 0xF).or(ha2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + p + L)).fma(FloatVector.broadcast(F, I8[(int) (scA >>> sh2) & 0xFF]), t0);
                t1 = ((FloatVector) va2.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(ha2.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 64 + p + L)).fma(FloatVector.broadcast(F, I8[(int) (scA >>> (sh2 + 32)) & 0xFF]), t1);
                t2 = ((FloatVector) vb2.and((byte) 0xF).or(hb2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 128 + p + L)).fma(FloatVector.broadcast(F, I8[(int) (scB >>> sh2) & 0xFF]), t2);
                t3 = ((FloatVector) vb2.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(hb2.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 192 + p + L)).fma(FloatVector.broadcast(F, I8[(int) (scB >>> (sh2 + 32)) & 0xFF]), t3);
            }
            acc = s0.add(t0).add(s1.add(t1)).add(s2.add(t2).add(s3.add(t3))).fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk + 208))), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@code (float) (byte) i} for 0..255: a signed scale byte as a float with one load. */
    private static final float[] I8 = new float[256];
    static {
        for (int i = 0; i < 256; i++) I8[i] = (byte) i;
    }
}
