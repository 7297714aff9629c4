package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * Q4_0 weights repacked ({@link DType#Q4_0_R16}) so that a row·vector product runs on 16-bit integers
 * against activations quantised to 8 bits, as llama.cpp does for Q4_0. Unpacked, every 4-bit weight must be
 * widened to a float before its multiply-add, which made Q4_0 decoding compute-bound at a third of the
 * memory bandwidth; here one 16-bit multiply covers two weights of each of 16 rows and no conversion is
 * needed until the end of a 32-column block.
 *
 * <p>Layout. Rows are grouped in panels of {@value #PANEL}; a panel takes exactly the bytes of its 16 Q4_0
 * rows, so slabs and row ranges that start on a panel keep their offsets. Per 32-column block a panel holds
 * 16 f16 scales (row j at short j) and then 4 groups of 32 shorts. Short {@code m} of group {@code g} holds
 * four 4-bit weights (q + 8, as in Q4_0) of row {@code m / 2}: nibble {@code k} is column
 * {@code 8g + 2k + m % 2} of the block. One group load thus yields, per nibble position, the even and odd
 * column of a pair for all 16 rows, to be multiplied with a broadcast pair of activations.
 *
 * <p>A block's 16 products per lane stay below 16 · 15 · 127 = 30 480, inside a short; the −8 offset is
 * applied once per block as −8 · Σ activations.
 */
public final class PackedQ4 {
    public static final int PANEL = 16;
    /** Bytes per panel per 32-column block: 16 scales and 256 bytes of nibbles, the same as 16 Q4_0 blocks. */
    static final int BLOCK_BYTES = 288;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Short> SV = F.withLanes(short.class);
    private static final VectorSpecies<Integer> IV = F.withLanes(int.class);
    /** The vector kernel needs a whole number of float vectors per panel. */
    public static final boolean VECTOR = L == 4 || L == 8 || L == 16;

    private PackedQ4() {}

    /** Whether a {@code rows × cols} Q4_0 matrix can be packed: whole panels and whole blocks. */
    public static boolean packable(long rows, long cols) {
        return rows % PANEL == 0 && cols % 32 == 0 && cols > 0;
    }

    // ---- packing -------------------------------------------------------------------------------------

    /**
     * Packs panel {@code p} of a Q4_0 matrix whose rows start at {@code src} (rows {@code 18 · cols / 32} bytes
     * apart) into {@code dst} at the same relative offset.
     */
    public static void packPanel(MemorySegment src, MemorySegment dst, int cols, long p) {
        int nb = cols / 32, rowBytes = 18 * nb, bytes = PANEL * rowBytes;
        long panel = p * bytes;
        byte[][] stage = PackStage.read(src, panel, bytes);   // through heap arrays: see PackStage
        byte[] in = stage[0], out = stage[1];
        for (int b = 0; b < nb; b++) {
            int o = BLOCK_BYTES * b;
            for (int j = 0; j < PANEL; j++) {
                int blk = j * rowBytes + 18 * b;
                out[o + 2 * j] = in[blk];
                out[o + 2 * j + 1] = in[blk + 1];
                // Byte i holds column i (low nibble) and column i + 16 (high). Group g, parity q takes columns
                // 8g + q + {0, 2, 4, 6}: every other byte's low (g < 2) or high (g >= 2) nibble of one 8-byte half.
                long lo = (long) LONG_LE.get(in, blk + 2), hi = (long) LONG_LE.get(in, blk + 10);
                int g0 = o + 32 + 4 * j, g1 = g0 + 64, g2 = g0 + 128, g3 = g0 + 192;
                SHORT_LE.set(out, g0, (short) Long.compress(lo, 0x000F000F000F000FL));
                SHORT_LE.set(out, g0 + 2, (short) Long.compress(lo, 0x0F000F000F000F00L));
                SHORT_LE.set(out, g1, (short) Long.compress(hi, 0x000F000F000F000FL));
                SHORT_LE.set(out, g1 + 2, (short) Long.compress(hi, 0x0F000F000F000F00L));
                SHORT_LE.set(out, g2, (short) Long.compress(lo, 0x00F000F000F000F0L));
                SHORT_LE.set(out, g2 + 2, (short) Long.compress(lo, 0xF000F000F000F000L));
                SHORT_LE.set(out, g3, (short) Long.compress(hi, 0x00F000F000F000F0L));
                SHORT_LE.set(out, g3 + 2, (short) Long.compress(hi, 0xF000F000F000F000L));
            }
        }
        PackStage.write(out, dst, panel, bytes);
    }

    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, LE);
    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, LE);
    /** Weight (row r, column c) of a packed matrix starting at {@code off}: the reference for the kernels. */
    public static float get(MemorySegment seg, long off, int cols, int r, int c) {
        return scale(seg, off, cols, r, c) * (nibble(seg, off, cols, r, c) - 8);
    }

    private static long block(long off, int cols, int r, int c) {
        return off + (long) (r / PANEL) * PANEL * 18L * (cols / 32) + (long) BLOCK_BYTES * (c / 32);
    }

    private static float scale(MemorySegment seg, long off, int cols, int r, int c) {
        return Float.float16ToFloat(seg.get(SHORT, block(off, cols, r, c) + 2L * (r % PANEL)));
    }

    /** The stored 4-bit value (weight / scale + 8). */
    private static int nibble(MemorySegment seg, long off, int cols, int r, int c) {
        int e = c % 32, t = e / 2;
        int s = seg.get(SHORT, block(off, cols, r, c) + 32 + 64L * (t / 4) + 2L * (2 * (r % PANEL) + e % 2)) & 0xFFFF;
        return (s >>> (4 * (t % 4))) & 0xF;
    }

    /** Row {@code r} as floats (embedding lookup; rare, so plain). */
    public static void row(MemorySegment seg, long off, int cols, int r, float[] dst, int dstOff) {
        for (int c = 0; c < cols; c++) dst[dstOff + c] = get(seg, off, cols, r, c);
    }

    // ---- activations ---------------------------------------------------------------------------------

    /**
     * Activations quantised per 32-value block to 8 bits ({@code x ≈ scale · q}, |q| ≤ 127), as consecutive
     * pairs packed into ints (low half the even value), with each block's Σq. Reused between calls.
     */
    public static final class Activations {
        int[] pairs = new int[0];
        float[] scale = new float[0];
        int[] sum = new int[0];
        int cols, tokens;

        /** Quantises {@code n} rows of {@code cols} values starting at {@code x[xOff]}. */
        public Activations quantize(float[] x, int xOff, int n, int cols) {
            int blocks = n * (cols / 32);
            if (scale.length < blocks) {
                pairs = new int[16 * blocks];
                scale = new float[blocks];
                sum = new int[blocks];
            }
            this.cols = cols;
            this.tokens = n;
            for (int t = 0; t < n; t++) {
                int base = xOff + t * cols;
                for (int b = 0, nb = cols / 32; b < nb; b++) quantizeBlock(x, base + 32 * b, t * nb + b);
            }
            return this;
        }

        private void quantizeBlock(float[] x, int off, int block) {
            if (VECTOR) { quantizeBlockVector(x, off, block); return; }
            float amax = 0;
            for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[off + i]));
            float d = amax / 127, id = d == 0 ? 0 : 1 / d;
            int s = 0;
            for (int i = 0; i < 32; i += 2) {
                int q0 = roundHalfAway(x[off + i] * id), q1 = roundHalfAway(x[off + i + 1] * id);
                s += q0 + q1;
                pairs[16 * block + i / 2] = (q0 & 0xFFFF) | q1 << 16;
            }
            scale[block] = d;
            sum[block] = s;
        }

        private static int roundHalfAway(float v) {
            return (int) (v + Math.copySign(0.5f, v));
        }

        /** As the scalar loop, L values at a time; this runs on the dispatching thread while the pool waits. */
        private void quantizeBlockVector(float[] x, int off, int block) {
            FloatVector m = FloatVector.zero(F);
            for (int i = 0; i < 32; i += L) m = m.max(FloatVector.fromArray(F, x, off + i).abs());
            float d = m.reduceLanes(VectorOperators.MAX) / 127, id = d == 0 ? 0 : 1 / d;
            IntVector total = IntVector.zero(IV);
            for (int i = 0; i < 32; i += L) {
                FloatVector v = FloatVector.fromArray(F, x, off + i).mul(id);
                // Round half away from zero: add ±0.5, then the conversion truncates.
                v = v.add(v.reinterpretAsInts().and(0x80000000).or(Float.floatToRawIntBits(0.5f)).reinterpretAsFloats());
                IntVector q = (IntVector) v.convert(VectorOperators.F2I, 0);
                total = total.add(q);
                // Narrowed to shorts, consecutive pairs read as one int each (low half the even value).
                ((ShortVector) q.convertShape(VectorOperators.I2S, Species.S, 0)).reinterpretAsInts().intoArray(pairs, 16 * block + i / 2);
            }
            scale[block] = d;
            sum[block] = total.reduceLanes(VectorOperators.ADD);
        }

        /** Quantised value i of token t (for the reference kernel). */
        int q(int t, int i) {
            int p = pairs[t * (cols / 2) + i / 2];
            return i % 2 == 0 ? (short) p : p >> 16;
        }
    }

    // ---- kernels -------------------------------------------------------------------------------------

    /**
     * For rows [r0, r1) (r0 a multiple of 16) of the packed matrix at {@code off} and every token t of {@code a}:
     * {@code out[outOff + t*outStride + r] = row r · token t}.
     */
    public static void rows(MemorySegment seg, long off, int cols, int r0, int r1, Activations a,
                            float[] out, int outOff, int outStride) {
        if (r0 % PANEL != 0) throw new IllegalArgumentException("rows must start on a panel, got " + r0);
        long panelBytes = (long) PANEL * 18 * (cols / 32);
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
                    panelHalf1(seg, panel + 32 + (long) h * 2 * SV.length(), panel + 2L * h * L, cols, a.pairs, a.scale, a.sum, t * (cols / 32), out, o + t * outStride, rowsHere);
            }
        }
    }

    /**
     * L rows of a panel (weights and scales at their offsets) · the token whose blocks start at xb. Written out
     * without helper methods: the Vector API's own methods are force-inlined, ours would meet C2's inlining
     * node cutoff and then box every vector (10× slower). The four groups of a block are unrolled by hand into
     * two independent sums: faster than a loop over them (JMH matvec 60 → 68 GFLOP/s; olmoe-1b-7b Q4_0
     * generation ~45.6 → ~48 tokens/s in alternating `bench` runs). Two row groups per pass (sharing the activation broadcasts) ran 25 % faster
     * from cache but 25 % slower streaming from memory, which is what decoding does.
     */
    private static void panelHalf1(MemorySegment seg, long weights, long scales, int cols, int[] xp, float[] xs, int[] xsum, int xb,
                                   float[] out, int o, int rows) {
        int nb = cols / 32;
        ShortVector low = ShortVector.broadcast(SV, (short) 0xF);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long w0 = weights + (long) BLOCK_BYTES * b;
            int xi = 16 * (xb + b);
            // Two sums, groups 0-1 and 2-3, so consecutive adds do not wait on each other.
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
            s = s.add(s2);
            // Per row: even and odd column sums (adjacent shorts) added, minus the -8 offset's share; times the
            // row's scale and the block's activation scale. The f16 scales become floats by moving sign, exponent
            // and mantissa into place (sign-extended h << 13, masked) and multiplying by 2^112, which rebiases
            // normal and subnormal values exactly; a weight scale is never Inf or NaN.
            IntVector v = s.reinterpretAsInts();
            IntVector dot = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(v.lanewise(VectorOperators.ASHR, 16)).sub(8 * xsum[xb + b]);
            IntVector hs = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, scales + (long) BLOCK_BYTES * b, LE).convertShape(VectorOperators.S2I, IV, 0);
            FloatVector sc = hs.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
            acc = ((FloatVector) dot.convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + b]), acc);
        }
        if (rows == L) acc.intoArray(out, o);
        else acc.intoArray(out, o, VectorMask.fromLong(F, (1L << rows) - 1));
    }

    // ---- several tokens (prefill): Q4Prefill on 16-lane vectors; else PanelGemm, on panels dequantised here

    /** tile[tileOff + 16c + j] = weight (row j, column c) of the panel at {@code panel}. */
    static void dequantizePanel(MemorySegment seg, long panel, int cols, float[] tile, int tileOff) {
        if (!VECTOR) {
            for (int c = 0; c < cols; c++) for (int j = 0; j < PANEL; j++) tile[tileOff + PANEL * c + j] = get(seg, panel, cols, j, c);
            return;
        }
        IntVector low = IntVector.broadcast(IV, 0xF);
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            long blk = panel + (long) BLOCK_BYTES * b;
            for (int h = 0; h < PANEL / L; h++) {
                IntVector hs = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, blk + 2L * h * L, LE).convertShape(VectorOperators.S2I, IV, 0);
                FloatVector sc = hs.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f), bias = sc.mul(-8f);
                for (int g = 0; g < 4; g++) {
                    IntVector v = IntVector.fromMemorySegment(IV, seg, blk + 32 + 64L * g + 4L * h * L, LE);
                    int base = tileOff + PANEL * (32 * b + 8 * g) + h * L;   // column 8g + 2k + parity: bits 16·parity + 4k
                    for (int k = 0; k < 4; k++) {
                        ((FloatVector) v.lanewise(VectorOperators.LSHR, 4 * k).and(low).convert(VectorOperators.I2F, 0))
                                .fma(sc, bias).intoArray(tile, base + PANEL * 2 * k);
                        ((FloatVector) v.lanewise(VectorOperators.LSHR, 16 + 4 * k).and(low).convert(VectorOperators.I2F, 0))
                                .fma(sc, bias).intoArray(tile, base + PANEL * (2 * k + 1));
                    }
                }
            }
        }
    }

    /**
     * Row r · token t computed plainly on the quantised activations, with the kernels' exact order of float
     * operations per block; what the vector kernels are tested against.
     */
    static float reference(MemorySegment seg, long off, int cols, int r, Activations a, int t) {
        int nb = cols / 32;
        float acc = 0;
        for (int b = 0; b < nb; b++) {
            int dot = 0;
            for (int c = 32 * b; c < 32 * b + 32; c++) dot += (nibble(seg, off, cols, r, c) - 8) * a.q(t, c);
            acc = Math.fma((float) dot * scale(seg, off, cols, r, 32 * b), a.scale[t * nb + b], acc);
        }
        return acc;
    }
}
