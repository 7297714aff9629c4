package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * Q4_K weights repacked ({@link DType#Q4_K_R16}) so that a row·vector product runs on 16-bit integers against
 * activations quantised to 8 bits per 256 values (llama.cpp's q8_K idea), as {@link PackedQ4} does for Q4_0.
 * In the file layout every nibble is widened to a float before its multiply-add, which kept Q4_K decoding
 * compute-bound (olmoe-1b-7b Q4_K: 26 tokens/s, 17.5 GB/s of weights, against llama.cpp's 59).
 *
 * <p>Layout. Rows are grouped in panels of {@value PackedQ4#PANEL}; per 256-column super-block a panel holds
 * {@value #SB_BYTES} bytes (148 per row, the file's 144 plus 4: the 6-bit scales and mins are unpacked to bytes):
 * <pre>
 *   [0, 32)      f16 d of rows 0..15            [32, 64)   f16 dmin of rows 0..15
 *   [64, 192)    scale of sub-block j, row i at 64 + 16j + i   (0..63)
 *   [192, 320)   min of sub-block j, row i at 192 + 16j + i    (0..63)
 *   [320, 2368)  sub-block j (32 columns) at 320 + 256j: 4 groups of 32 shorts laid out as a {@link PackedQ4}
 *                block: short m of group g holds four nibbles of row m / 2, nibble k = column 8g + 2k + m % 2
 * </pre>
 * Weight (row, column) = d·scale·q − dmin·min (ggml's {@code dequantize_row_q4_K}).
 *
 * <p>Exactness. Within a sub-block each 16-bit lane sums 16 products q·a with q ≤ 15, |a| ≤ 127: at most
 * 30 480. The sub-block sums times their 6-bit scales, and the mins times the activations' 32-value sums, are
 * added in 32-bit integers (≤ 8 · 60 960 · 63 and 8 · 63 · 4 064); floats enter once per super-block.
 *
 * <p>The same scheme fits Q5_K (a fifth bit plane beside the nibbles; 16 products of 31 · 127 would overflow a
 * 16-bit lane, so a sub-block would be summed in two halves) and Q6_K (signed q − 32: 8 products per lane per
 * 16-column sub-block, ≤ 32 · 127 · 8, fit).
 */
public final class PackedQ4K {
    static final int PANEL = PackedQ4.PANEL;
    /** Bytes per panel per 256-column super-block. */
    static final int SB_BYTES = 2368;
    private static final int D = 0, DMIN = 32, SCALES = 64, MINS = 192, QS = 320;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Short> SV = F.withLanes(short.class);
    private static final VectorSpecies<Integer> IV = F.withLanes(int.class);
    /** The vector kernels need a whole number of float vectors per panel and L-lane byte and short species. */
    public static final boolean VECTOR = (L == 4 || L == 8 || L == 16) && Species.B != null && Species.S != null;

    private PackedQ4K() {}

    /** Whether a {@code rows × cols} Q4_K matrix can be packed: whole panels and whole super-blocks. */
    public static boolean packable(long rows, long cols) {
        return rows % PANEL == 0 && cols % 256 == 0 && cols > 0;
    }

    // ---- packing -------------------------------------------------------------------------------------

    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, LE);
    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, LE);

    /**
     * Packs panel {@code p} of a Q4_K matrix whose rows start at {@code src} (rows {@code 144 · cols / 256}
     * bytes apart) into {@code dst}, whose panels are {@code 16 · 148 · cols / 256} bytes apart.
     */
    public static void packPanel(MemorySegment src, MemorySegment dst, int cols, long p) {
        int nsb = cols / 256, rowBytes = 144 * nsb, inBytes = PANEL * rowBytes, outBytes = SB_BYTES * nsb;
        byte[][] stage = PackStage.read(src, p * inBytes, inBytes, outBytes);
        byte[] in = stage[0], out = stage[1];
        for (int sb = 0; sb < nsb; sb++) {
            int o = SB_BYTES * sb;
            for (int i = 0; i < PANEL; i++) {
                int blk = i * rowBytes + 144 * sb;
                out[o + D + 2 * i] = in[blk];
                out[o + D + 2 * i + 1] = in[blk + 1];
                out[o + DMIN + 2 * i] = in[blk + 2];
                out[o + DMIN + 2 * i + 1] = in[blk + 3];
                for (int j = 0; j < 8; j++) {
                    out[o + SCALES + 16 * j + i] = (byte) subScale(in, blk + 4, j);
                    out[o + MINS + 16 * j + i] = (byte) subMin(in, blk + 4, j);
                }
                // Sub-block j is the low (even j) or high (odd j) nibbles of bytes 32·(j/2) .. +32, column e in
                // byte e. Group g, parity q takes columns 8g + q + {0, 2, 4, 6}: every other byte of one 8-byte run.
                for (int j = 0; j < 8; j++) {
                    int shift = 4 * (j % 2);
                    long even = 0x000F000F000F000FL << shift, odd = 0x0F000F000F000F00L << shift;
                    for (int g = 0; g < 4; g++) {
                        long bytes = (long) LONG_LE.get(in, blk + 16 + 32 * (j / 2) + 8 * g);
                        int at = o + QS + 256 * j + 64 * g + 4 * i;
                        SHORT_LE.set(out, at, (short) Long.compress(bytes, even));
                        SHORT_LE.set(out, at + 2, (short) Long.compress(bytes, odd));
                    }
                }
            }
        }
        PackStage.write(out, dst, p * outBytes, outBytes);
    }

    /** 6-bit scale of sub-block j from the 12 packed bytes at {@code s} (ggml's get_scale_min_k4). */
    private static int subScale(byte[] b, int s, int j) {
        return j < 4 ? b[s + j] & 63 : (b[s + j + 4] & 0xF) | ((b[s + j - 4] & 0xFF) >>> 6) << 4;
    }

    /** 6-bit min of sub-block j. */
    private static int subMin(byte[] b, int s, int j) {
        return j < 4 ? b[s + j + 4] & 63 : ((b[s + j + 4] & 0xFF) >>> 4) | ((b[s + j] & 0xFF) >>> 6) << 4;
    }

    private static long superBlock(long off, int cols, int r, int c) {
        return off + (long) (r / PANEL) * SB_BYTES * (cols / 256) + (long) SB_BYTES * (c / 256);
    }

    /** Weight (row r, column c) of a packed matrix starting at {@code off}: the reference for the kernels. */
    public static float get(MemorySegment seg, long off, int cols, int r, int c) {
        long sb = superBlock(off, cols, r, c);
        int i = r % PANEL, j = (c % 256) / 32;
        float d = Float.float16ToFloat(seg.get(SHORT, sb + D + 2L * i)), dmin = Float.float16ToFloat(seg.get(SHORT, sb + DMIN + 2L * i));
        return d * scale(seg, sb, i, j) * nibble(seg, off, cols, r, c) - dmin * min(seg, sb, i, j);
    }

    private static int scale(MemorySegment seg, long sb, int i, int j) {
        return seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sb + SCALES + 16L * j + i);
    }

    private static int min(MemorySegment seg, long sb, int i, int j) {
        return seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sb + MINS + 16L * j + i);
    }

    /** The stored 4-bit value q of (row r, column c). */
    private static int nibble(MemorySegment seg, long off, int cols, int r, int c) {
        int e = c % 32, t = e / 2;
        long at = superBlock(off, cols, r, c) + QS + 256L * ((c % 256) / 32) + 64L * (t / 4) + 2L * (2 * (r % PANEL) + e % 2);
        return ((seg.get(SHORT, at) & 0xFFFF) >>> (4 * (t % 4))) & 0xF;
    }

    /** Row {@code r} as floats (rare: embedding tables stay unpacked, so plain). */
    public static void row(MemorySegment seg, long off, int cols, int r, float[] dst, int dstOff) {
        for (int c = 0; c < cols; c++) dst[dstOff + c] = get(seg, off, cols, r, c);
    }

    // ---- activations ---------------------------------------------------------------------------------

    /**
     * Activations quantised to 8 bits with one scale per 256 values ({@code x ≈ scale · q}, |q| ≤ 127, q
     * rounded half away from zero), as consecutive pairs packed into ints (low half the even value), with the
     * sum of q over each 32 values (for the mins). Reused between calls.
     */
    public static final class Activations {
        int[] pairs = new int[0];
        float[] scale = new float[0];
        int[] sum = new int[0];
        int cols, tokens;

        /** Quantises {@code n} rows of {@code cols} values (a multiple of 256) starting at {@code x[xOff]}. */
        public Activations quantize(float[] x, int xOff, int n, int cols) {
            if (cols % 256 != 0) throw new IllegalArgumentException("Q4_K activations need a multiple of 256 columns, got " + cols);
            int superBlocks = n * (cols / 256);
            if (scale.length < superBlocks) {
                pairs = new int[128 * superBlocks];
                scale = new float[superBlocks];
                sum = new int[8 * superBlocks];
            }
            this.cols = cols;
            this.tokens = n;
            for (int t = 0; t < n; t++)
                for (int b = 0, nsb = cols / 256; b < nsb; b++) quantizeSuperBlock(x, xOff + t * cols + 256 * b, t * nsb + b);
            return this;
        }

        private void quantizeSuperBlock(float[] x, int off, int sb) {
            if (!VECTOR) {
                float amax = 0;
                for (int i = 0; i < 256; i++) amax = Math.max(amax, Math.abs(x[off + i]));
                float d = amax / 127, id = d == 0 ? 0 : 1 / d;
                for (int b = 0; b < 8; b++) {
                    int s = 0;
                    for (int i = 32 * b; i < 32 * b + 32; i += 2) {
                        int q0 = roundHalfAway(x[off + i] * id), q1 = roundHalfAway(x[off + i + 1] * id);
                        s += q0 + q1;
                        pairs[128 * sb + i / 2] = (q0 & 0xFFFF) | q1 << 16;
                    }
                    sum[8 * sb + b] = s;
                }
                scale[sb] = d;
                return;
            }
            FloatVector m = FloatVector.zero(F);
            for (int i = 0; i < 256; i += L) m = m.max(FloatVector.fromArray(F, x, off + i).abs());
            float d = m.reduceLanes(VectorOperators.MAX) / 127, id = d == 0 ? 0 : 1 / d;
            for (int b = 0; b < 8; b++) {
                IntVector total = IntVector.zero(IV);
                for (int i = 32 * b; i < 32 * b + 32; i += L) {
                    FloatVector v = FloatVector.fromArray(F, x, off + i).mul(id);
                    // Round half away from zero: add ±0.5, then the conversion truncates.
                    v = v.add(v.reinterpretAsInts().and(0x80000000).or(Float.floatToRawIntBits(0.5f)).reinterpretAsFloats());
                    IntVector q = (IntVector) v.convert(VectorOperators.F2I, 0);
                    total = total.add(q);
                    ((ShortVector) q.convertShape(VectorOperators.I2S, Species.S, 0)).reinterpretAsInts().intoArray(pairs, 128 * sb + i / 2);
                }
                sum[8 * sb + b] = total.reduceLanes(VectorOperators.ADD);
            }
            scale[sb] = d;
        }

        private static int roundHalfAway(float v) {
            return (int) (v + Math.copySign(0.5f, v));
        }

        /** Quantised value i of token t (for the reference kernel). */
        int q(int t, int i) {
            int p = pairs[t * (cols / 2) + i / 2];
            return i % 2 == 0 ? (short) p : p >> 16;
        }
    }

    // ---- one token (decode) ----------------------------------------------------------------------------

    /**
     * For rows [r0, r1) (r0 a multiple of 16) of the packed matrix at {@code off} and every token t of {@code a}:
     * {@code out[outOff + t*outStride + r] = row r · token t}.
     */
    public static void rows(MemorySegment seg, long off, int cols, int r0, int r1, Activations a,
                            float[] out, int outOff, int outStride) {
        if (r0 % PANEL != 0) throw new IllegalArgumentException("rows must start on a panel, got " + r0);
        if (a.cols != cols) throw new IllegalArgumentException("activations have " + a.cols + " columns, weights " + cols);
        int nsb = cols / 256;
        long panelBytes = (long) SB_BYTES * nsb;
        for (int p0 = r0; p0 < r1; p0 += PANEL) {
            long panel = off + panelBytes * (p0 / PANEL);
            int valid = Math.min(PANEL, r1 - p0);
            if (!VECTOR) {
                for (int t = 0; t < a.tokens; t++) for (int j = 0; j < valid; j++)
                    out[outOff + t * outStride + p0 + j] = reference(seg, off, cols, p0 + j, a, t);
                continue;
            }
            for (int h = 0; h < PANEL / L; h++) {
                int rowsHere = Math.min(L, valid - h * L);
                if (rowsHere <= 0) break;
                int o = outOff + p0 + h * L;
                for (int t = 0; t < a.tokens; t++)
                    panelRows(seg, panel, h, nsb, a.pairs, a.scale, a.sum, t * nsb, out, o + t * outStride, rowsHere);
            }
        }
    }

    /**
     * L rows (group h of the panel at {@code panel}) · the token whose super-blocks start at index {@code xb}.
     * Written out without helper methods, as {@link PackedQ4}'s kernel is (C2 boxes vectors past its inlining
     * node cutoff). Per sub-block the products are summed in 16-bit lanes (even and odd columns of each row
     * apart), the two halves of each row's int added, times the row's 6-bit scale, into 32-bit sums.
     */
    private static void panelRows(MemorySegment seg, long panel, int h, int nsb, int[] xp, float[] xs, int[] xsum, int xb,
                                  float[] out, int o, int rows) {
        ShortVector low = ShortVector.broadcast(SV, (short) 0xF);
        FloatVector acc = FloatVector.zero(F);
        long rowsAt = (long) h * L, wAt = (long) h * 2 * SV.length();
        for (int sb = 0; sb < nsb; sb++) {
            long base = panel + (long) SB_BYTES * sb;
            IntVector dots = IntVector.zero(IV), mins = IntVector.zero(IV);
            for (int j = 0; j < 8; j++) {
                long w0 = base + QS + 256L * j + wAt;
                int xi = 128 * (xb + sb) + 16 * j;
                ShortVector w = ShortVector.fromMemorySegment(SV, seg, w0, LE);
                ShortVector s = w.and(low).mul(IntVector.broadcast(IV, xp[xi]).reinterpretAsShorts())
                        .add(w.lanewise(VectorOperators.LSHR, 4).and(low).mul(IntVector.broadcast(IV, xp[xi + 1]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 8).and(low).mul(IntVector.broadcast(IV, xp[xi + 2]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 12).mul(IntVector.broadcast(IV, xp[xi + 3]).reinterpretAsShorts()));
                w = ShortVector.fromMemorySegment(SV, seg, w0 + 64, LE);
                s = s.add(w.and(low).mul(IntVector.broadcast(IV, xp[xi + 4]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 4).and(low).mul(IntVector.broadcast(IV, xp[xi + 5]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 8).and(low).mul(IntVector.broadcast(IV, xp[xi + 6]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 12).mul(IntVector.broadcast(IV, xp[xi + 7]).reinterpretAsShorts()));
                w = ShortVector.fromMemorySegment(SV, seg, w0 + 128, LE);
                ShortVector s2 = w.and(low).mul(IntVector.broadcast(IV, xp[xi + 8]).reinterpretAsShorts())
                        .add(w.lanewise(VectorOperators.LSHR, 4).and(low).mul(IntVector.broadcast(IV, xp[xi + 9]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 8).and(low).mul(IntVector.broadcast(IV, xp[xi + 10]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 12).mul(IntVector.broadcast(IV, xp[xi + 11]).reinterpretAsShorts()));
                w = ShortVector.fromMemorySegment(SV, seg, w0 + 192, LE);
                s2 = s2.add(w.and(low).mul(IntVector.broadcast(IV, xp[xi + 12]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 4).and(low).mul(IntVector.broadcast(IV, xp[xi + 13]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 8).and(low).mul(IntVector.broadcast(IV, xp[xi + 14]).reinterpretAsShorts()))
                        .add(w.lanewise(VectorOperators.LSHR, 12).mul(IntVector.broadcast(IV, xp[xi + 15]).reinterpretAsShorts()));
                IntVector v = s.add(s2).reinterpretAsInts();
                IntVector dot = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16));
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(Species.B, seg, base + SCALES + 16L * j + rowsAt, LE)
                        .convertShape(VectorOperators.B2I, IV, 0);
                IntVector mn = (IntVector) ByteVector.fromMemorySegment(Species.B, seg, base + MINS + 16L * j + rowsAt, LE)
                        .convertShape(VectorOperators.B2I, IV, 0);
                dots = dot.mul(sc).add(dots);
                mins = mn.mul(xsum[8 * (xb + sb) + j]).add(mins);
            }
            // f16 → f32 by moving sign, exponent and mantissa into place and rebiasing with 2^112 (see PackedQ4).
            IntVector hd = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, base + D + 2 * rowsAt, LE).convertShape(VectorOperators.S2I, IV, 0);
            IntVector hm = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, base + DMIN + 2 * rowsAt, LE).convertShape(VectorOperators.S2I, IV, 0);
            FloatVector d = hd.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
            FloatVector dmin = hm.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
            FloatVector part = ((FloatVector) dots.convert(VectorOperators.I2F, 0)).mul(d)
                    .sub(((FloatVector) mins.convert(VectorOperators.I2F, 0)).mul(dmin));
            acc = part.fma(FloatVector.broadcast(F, xs[xb + sb]), acc);
        }
        if (rows == L) acc.intoArray(out, o);
        else acc.intoArray(out, o, VectorMask.fromLong(F, (1L << rows) - 1));
    }

    /**
     * Row r · token t computed plainly on the quantised activations, with the kernel's integer sums and exact
     * order of float operations per super-block; what the vector kernel is tested against.
     */
    static float reference(MemorySegment seg, long off, int cols, int r, Activations a, int t) {
        int nsb = cols / 256, i = r % PANEL;
        float acc = 0;
        for (int sb = 0; sb < nsb; sb++) {
            long base = superBlock(off, cols, r, 256 * sb);
            int dots = 0, mins = 0;
            for (int j = 0; j < 8; j++) {
                int dot = 0, sum = 0;
                for (int e = 0; e < 32; e++) {
                    int c = 256 * sb + 32 * j + e;
                    dot += nibble(seg, off, cols, r, c) * a.q(t, c);
                    sum += a.q(t, c);
                }
                dots += scale(seg, base, i, j) * dot;
                mins += min(seg, base, i, j) * sum;
            }
            float d = Float.float16ToFloat(seg.get(SHORT, base + D + 2L * i)), dmin = Float.float16ToFloat(seg.get(SHORT, base + DMIN + 2L * i));
            acc = Math.fma((float) dots * d - (float) mins * dmin, a.scale[t * nsb + sb], acc);
        }
        return acc;
    }

    // ---- several tokens (prefill): PanelGemm, on panels dequantised here ----------------------------------

    /** tile[tileOff + 16c + j] = weight (row j, column c) of the panel at {@code panel}. */
    static void dequantizePanel(MemorySegment seg, long panel, int cols, float[] tile, int tileOff) {
        if (!VECTOR) {
            for (int c = 0; c < cols; c++) for (int j = 0; j < PANEL; j++) tile[tileOff + PANEL * c + j] = get(seg, panel, cols, j, c);
            return;
        }
        IntVector low = IntVector.broadcast(IV, 0xF);
        for (int sb = 0, nsb = cols / 256; sb < nsb; sb++) {
            long base = panel + (long) SB_BYTES * sb;
            for (int h = 0; h < PANEL / L; h++) {
                IntVector hd = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, base + D + 2L * h * L, LE).convertShape(VectorOperators.S2I, IV, 0);
                IntVector hm = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, base + DMIN + 2L * h * L, LE).convertShape(VectorOperators.S2I, IV, 0);
                FloatVector d = hd.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
                FloatVector dmin = hm.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
                for (int j = 0; j < 8; j++) {
                    FloatVector sc = (FloatVector) ByteVector.fromMemorySegment(Species.B, seg, base + SCALES + 16L * j + (long) h * L, LE)
                            .convertShape(VectorOperators.B2F, F, 0);
                    FloatVector mn = (FloatVector) ByteVector.fromMemorySegment(Species.B, seg, base + MINS + 16L * j + (long) h * L, LE)
                            .convertShape(VectorOperators.B2F, F, 0);
                    FloatVector step = d.mul(sc), bias = dmin.mul(mn).neg();
                    for (int g = 0; g < 4; g++) {
                        IntVector v = IntVector.fromMemorySegment(IV, seg, base + QS + 256L * j + 64L * g + 4L * h * L, LE);
                        int at = tileOff + PANEL * (256 * sb + 32 * j + 8 * g) + h * L;   // column 8g + 2k + parity: bits 16·parity + 4k
                        for (int k = 0; k < 4; k++) {
                            ((FloatVector) v.lanewise(VectorOperators.LSHR, 4 * k).and(low).convert(VectorOperators.I2F, 0))
                                    .fma(step, bias).intoArray(tile, at + PANEL * 2 * k);
                            ((FloatVector) v.lanewise(VectorOperators.LSHR, 16 + 4 * k).and(low).convert(VectorOperators.I2F, 0))
                                    .fma(step, bias).intoArray(tile, at + PANEL * (2 * k + 1));
                        }
                    }
                }
            }
        }
    }
}
