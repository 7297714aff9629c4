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
 * GGML's Q5_K ({@code block_q5_K} in ggml-common.h): 256-value super-blocks of an f16 d, an f16 dmin, 12 bytes
 * of 6-bit scales and mins of 8 sub-blocks of 32 (packed as in Q4_K), 32 bytes qh of fifth bits and 128 bytes of
 * low nibbles. Value j = 64c + 32u + l (c &lt; 4, u &lt; 2, l &lt; 32) is nibble u of byte 32c + l with bit j/32 of
 * qh byte l as its fifth bit; x = (d·scale)·q − (dmin·min), rounded as gguf-py's {@code Q5_K.dequantize_blocks}.
 *
 * <p>The quantiser writes the reference layout (llama.cpp reads it) but, like {@link Q4_KKernels}'s, chooses
 * scales and mins by a plain min/max rule instead of ggml's iterative error search, so its error is a little
 * higher than llama-quantize's.
 */
final class Q5_KKernels extends TileDotKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final boolean VECTORISED = B != null && L <= 16;

    Q5_KKernels() {
        super(DType.Q5_K);
    }

    /** 6-bit scale of sub-block j (0..7) from the 12 packed bytes at {@code s} (ggml's get_scale_min_k4). */
    static int subScale(MemorySegment seg, long s, int j) {
        return j < 4 ? u8(seg, s + j) & 63 : (u8(seg, s + j + 4) & 0xF) | (u8(seg, s + j - 4) >>> 6) << 4;
    }

    /** 6-bit min of sub-block j. */
    static int subMin(MemorySegment seg, long s, int j) {
        return j < 4 ? u8(seg, s + j + 4) & 63 : (u8(seg, s + j + 4) >>> 4) | (u8(seg, s + j) >>> 6) << 4;
    }

    private static int u8(MemorySegment seg, long off) {
        return seg.get(BYTE, off) & 0xFF;
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 176;
        int j = (int) (i % 256), sub = j / 32, c = j / 64, l = j % 32;
        int b = u8(seg, block + 48 + 32 * c + l);
        int q = (sub % 2 == 0 ? b & 0xF : b >>> 4) | (u8(seg, block + 16 + l) >>> sub & 1) << 4;
        float d = Float.float16ToFloat(seg.get(SHORT, block)), dmin = Float.float16ToFloat(seg.get(SHORT, block + 2));
        return d * subScale(seg, block + 4, sub) * q - dmin * subMin(seg, block + 4, sub);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 176L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk)), dmin = Float.float16ToFloat(seg.get(SHORT, blk + 2));
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, d * subScale(seg, blk + 4, 2 * c));
                FloatVector m1 = FloatVector.broadcast(F, dmin * subMin(seg, blk + 4, 2 * c));
                FloatVector d2 = FloatVector.broadcast(F, d * subScale(seg, blk + 4, 2 * c + 1));
                FloatVector m2 = FloatVector.broadcast(F, dmin * subMin(seg, blk + 4, 2 * c + 1));
                long qs = blk + 48 + 32 * c;
                int o = dstOff + 256 * b + 64 * c;
                byte bitLo = (byte) (1 << 2 * c), bitHi = (byte) (2 << 2 * c);
                ByteVector zero = ByteVector.zero(B);
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + l, LE);
                    ByteVector h = ByteVector.fromMemorySegment(B, seg, blk + 16 + l, LE);
                    ByteVector lo = q.and((byte) 0xF).or(zero.blend((byte) 16, h.and(bitLo).compare(VectorOperators.NE, (byte) 0)));
                    ByteVector hi = q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                            .or(zero.blend((byte) 16, h.and(bitHi).compare(VectorOperators.NE, (byte) 0)));
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d1).sub(m1).intoArray(dst, o + l);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d2).sub(m2).intoArray(dst, o + 32 + l);
                }
            }
        }
    }

    // The 12 scale bytes read as three little-endian words u0, u1, u2: byte j of the longs built from them is
    // the scale or min of sub-block j, as ggml's kmask1..3 unpacking gives them (same packing as Q4_K).
    private static final int LOW6 = 0x3F3F3F3F, LOW4 = 0x0F0F0F0F, LOW2 = 0x03030303;
    /** {@code (float) i} for 0..255: a scale byte becomes a float with one load. */
    private static final float[] U8 = new float[256];
    static {
        for (int i = 0; i < 256; i++) U8[i] = i;
    }

    /**
     * Fused decode kernel: sub-block j adds d·scale_j·Σ q·x − dmin·min_j·Σ x, so the loop multiply-adds raw 5-bit
     * q (nibble | fifth bit, built in byte lanes) and sums x; scales are applied once per sub-block. Written out in
     * one method with Vector API calls only (see {@link TypeKernels}).
     */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F), accMin = FloatVector.zero(F);
        ByteVector zero = ByteVector.zero(B);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 176L * b;
            int dd = seg.get(LittleEndian.INT, blk), u0 = seg.get(LittleEndian.INT, blk + 4);
            int u1 = seg.get(LittleEndian.INT, blk + 8), u2 = seg.get(LittleEndian.INT, blk + 12);
            long sc = (u0 & LOW6) & 0xFFFFFFFFL | (long) ((u2 & LOW4) | ((u0 >>> 6) & LOW2) << 4) << 32;
            long m = (u1 & LOW6) & 0xFFFFFFFFL | (long) (((u2 >>> 4) & LOW4) | ((u1 >>> 6) & LOW2) << 4) << 32;
            FloatVector qa = FloatVector.zero(F), ma = FloatVector.zero(F);
            for (int c = 0; c < 4; c++) {
                int xo = xOff + 256 * b + 64 * c;
                long qs = blk + 48 + 32 * c;
                FloatVector s1 = FloatVector.zero(F), s2 = s1, x1 = s1, x2 = s1;
                byte bitLo = (byte) (1 << 2 * c), bitHi = (byte) (2 << 2 * c);
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + l, LE);
                    ByteVector h = ByteVector.fromMemorySegment(B, seg, blk + 16 + l, LE);
                    // Fifth bits by mask and compare (no byte shift by a variable count: C2 does not intrinsify
                    // it); the high nibbles by a 32-bit shift, as Q4_K does.
                    ByteVector lo = q.and((byte) 0xF).or(zero.blend((byte) 16, h.and(bitLo).compare(VectorOperators.NE, (byte) 0)));
                    ByteVector hi = q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                            .or(zero.blend((byte) 16, h.and(bitHi).compare(VectorOperators.NE, (byte) 0)));
                    FloatVector xa = FloatVector.fromArray(F, x, xo + l), xb = FloatVector.fromArray(F, x, xo + 32 + l);
                    s1 = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).fma(xa, s1);
                    s2 = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).fma(xb, s2);
                    x1 = x1.add(xa);
                    x2 = x2.add(xb);
                }
                int sc2 = (int) (sc >>> 16 * c), m2 = (int) (m >>> 16 * c);
                qa = s2.fma(FloatVector.broadcast(F, U8[(sc2 >>> 8) & 0xFF]), s1.fma(FloatVector.broadcast(F, U8[sc2 & 0xFF]), qa));
                ma = x2.fma(FloatVector.broadcast(F, U8[(m2 >>> 8) & 0xFF]), x1.fma(FloatVector.broadcast(F, U8[m2 & 0xFF]), ma));
            }
            float d = Float.float16ToFloat((short) dd), dmin = Float.float16ToFloat((short) (dd >>> 16));
            acc = qa.fma(FloatVector.broadcast(F, d), acc);
            accMin = ma.fma(FloatVector.broadcast(F, dmin), accMin);
        }
        return acc.sub(accMin).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    public int ggufFileType() {
        return 16; // LLAMA_FTYPE_MOSTLY_Q5_K_S: every weight Q5_K, no Q6_K mix as in Q5_K_M
    }

    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        float[] scale = new float[8], min = new float[8];
        int[] ls = new int[8], lm = new int[8];
        byte[] s = new byte[12];
        for (int b = 0; b < n / 256; b++) {
            int o = off + 256 * b;
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++) {
                float lo = 0, hi = 0; // the grid always contains zero: min <= 0 <= max
                for (int i = 0; i < 32; i++) {
                    lo = Math.min(lo, src[o + 32 * j + i]);
                    hi = Math.max(hi, src[o + 32 * j + i]);
                }
                scale[j] = (hi - lo) / 31;
                min[j] = -lo;
                maxScale = Math.max(maxScale, scale[j]);
                maxMin = Math.max(maxMin, min[j]);
            }
            short dh = Float.floatToFloat16(maxScale / 63), dminh = Float.floatToFloat16(maxMin / 63);
            float dq = Float.float16ToFloat(dh), dminq = Float.float16ToFloat(dminh);
            for (int j = 0; j < 8; j++) {
                ls[j] = dq > 0 ? Math.min(63, Math.round(scale[j] / dq)) : 0;
                lm[j] = dminq > 0 ? Math.min(63, Math.round(min[j] / dminq)) : 0;
            }
            long blk = dstOff + 176L * b;
            dst.set(SHORT, blk, dh);
            dst.set(SHORT, blk + 2, dminh);
            java.util.Arrays.fill(s, (byte) 0);
            for (int j = 0; j < 8; j++) {
                if (j < 4) {
                    s[j] = (byte) ls[j];
                    s[j + 4] = (byte) lm[j];
                } else {
                    s[j + 4] = (byte) ((ls[j] & 0xF) | (lm[j] & 0xF) << 4);
                    s[j - 4] |= (byte) ((ls[j] >> 4) << 6);
                    s[j] |= (byte) ((lm[j] >> 4) << 6);
                }
            }
            MemorySegment.copy(s, 0, dst, BYTE, blk + 4, 12);
            byte[] qh = new byte[32];
            for (int c = 0; c < 4; c++) {
                float d1 = dq * ls[2 * c], m1 = dminq * lm[2 * c], d2 = dq * ls[2 * c + 1], m2 = dminq * lm[2 * c + 1];
                for (int l = 0; l < 32; l++) {
                    int q1 = q5(src[o + 64 * c + l], d1, m1), q2 = q5(src[o + 64 * c + 32 + l], d2, m2);
                    dst.set(BYTE, blk + 48 + 32 * c + l, (byte) ((q1 & 0xF) | (q2 & 0xF) << 4));
                    qh[l] |= (byte) ((q1 >>> 4) << 2 * c | (q2 >>> 4) << (2 * c + 1));
                }
            }
            MemorySegment.copy(qh, 0, dst, BYTE, blk + 16, 32);
        }
    }

    private static int q5(float x, float d, float m) {
        return d == 0 ? 0 : Math.clamp(Math.round((x + m) / d), 0, 31);
    }
}
