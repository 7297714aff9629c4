package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.PackedQ4.BLOCK_BYTES;
import static dev.moe4j.kernel.PackedQ4.PANEL;
import static dev.moe4j.kernel.Species.F;

/**
 * Several tokens times {@link DType#Q4_0_R16} weights on 16-bit integers, as decoding does: activations
 * quantised to 8 bits per 32-column block, weights (q − 8) widened once per panel into a tile of shorts, and
 * per column pair one 16-bit multiply and add for 16 rows × 2 columns. The products of a block stay exact in
 * 16 bits (16 · 8 · 127 per lane). It beats float outer products over a dequantised tile (PanelGemm), which
 * the FMA units cap (with activations prepared on the pool, olmoe-1b-7b Q4_0 pp128 went 80 → 86 tokens/s in
 * `bench`); the price is the 8-bit activations that decoding (and llama.cpp) already use.
 *
 * <p>Needs 16 float lanes (AVX-512): one short vector then covers a panel's 16 rows × 2 columns.
 */
public final class Q4Prefill {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Short> SV = F.withLanes(short.class);
    private static final VectorSpecies<Integer> IV = F.withLanes(int.class);
    /** Tokens per pass. */
    static final int T = 8;
    /** Whether this machine's vectors fit the kernel (16 floats: one panel per vector). */
    public static final boolean SUPPORTED = F.length() == PANEL;

    private Q4Prefill() {}

    /**
     * Activations of n tokens quantised per 32-column block and interleaved by {@value #T} tokens:
     * {@code pairs[((g·nb + b)·16 + cp)·8 + j]} = column pair cp of block b of token 8g + j (two shorts, the even
     * column low), {@code scale[(g·nb + b)·8 + j]} its block's scale; zero past the last token.
     */
    public static final class Quantized {
        /** Per thread: the tokens of one group quantised one after another, before interleaving. */
        private static final ThreadLocal<PackedQ4.Activations> STAGE = ThreadLocal.withInitial(PackedQ4.Activations::new);
        int[] pairs = new int[0];
        float[] scale = new float[0];
        int tokens, cols;

        /** Quantises and interleaves {@code n} rows of {@code cols} values starting at {@code x[xOff]}. */
        public Quantized of(float[] x, int xOff, int n, int cols) {
            size(n, cols);
            for (int g = 0; g < groups(); g++) group(x, xOff, g);
            return this;
        }

        /** Makes room for n tokens of cols values; then {@link #group} fills each group (from any thread). */
        Quantized size(int n, int cols) {
            int nb = cols / 32, groups = (n + T - 1) / T;
            if (scale.length < groups * nb * T) {
                pairs = new int[groups * nb * 16 * T];
                scale = new float[groups * nb * T];
            }
            this.tokens = n;
            this.cols = cols;
            return this;
        }

        int groups() {
            return (tokens + T - 1) / T;
        }

        /** Quantises tokens [8g, 8g + 8) of x (rows of cols values from xOff) into their interleaved places. */
        void group(float[] x, int xOff, int g) {
            int nb = cols / 32, t0 = g * T, nt = Math.min(T, tokens - t0);
            PackedQ4.Activations q = STAGE.get().quantize(x, xOff + t0 * cols, nt, cols);
            for (int j = 0; j < T; j++) {
                for (int b = 0; b < nb; b++) {
                    int gb = g * nb + b;
                    scale[gb * T + j] = j < nt ? q.scale[j * nb + b] : 0;
                    for (int cp = 0; cp < 16; cp++) pairs[(gb * 16 + cp) * T + j] = j < nt ? q.pairs[16 * (j * nb + b) + cp] : 0;
                }
            }
        }
    }

    /** Per thread: [0] a panel's weights (q − 8) as shorts, 32 per column pair; [1] its row scales as floats. */
    private static final ThreadLocal<Object[]> TILE = ThreadLocal.withInitial(() -> new Object[] {new short[0], new float[0], new float[2 * T * PANEL]});

    /**
     * For rows [r0, r1) (r0 a multiple of 16) of the packed matrix at {@code off} and every token of {@code xq}:
     * {@code out[outOff + t*outStride + r] = row r · token t}.
     */
    public static void rows(MemorySegment seg, long off, int cols, int r0, int r1, Quantized xq,
                            float[] out, int outOff, int outStride) {
        if (!SUPPORTED) throw new IllegalStateException("needs 16-lane float vectors");
        if (r0 % PANEL != 0) throw new IllegalArgumentException("rows must start on a panel, got " + r0);
        if (xq.cols != cols) throw new IllegalArgumentException("activations have " + xq.cols + " columns, weights " + cols);
        int nb = cols / 32;
        Object[] scratch = TILE.get();
        if (((short[]) scratch[0]).length < 16 * cols) {   // 32 shorts per column pair of 16 rows
            scratch[0] = new short[16 * cols];
            scratch[1] = new float[PANEL * nb];
        }
        short[] tile = (short[]) scratch[0];
        float[] rowScale = (float[]) scratch[1], sums = (float[]) scratch[2];
        long panelBytes = (long) PANEL * 18 * nb;
        int n = xq.tokens;
        for (int p0 = r0; p0 < r1; p0 += PANEL) {
            widenPanel(seg, off + panelBytes * (p0 / PANEL), nb, tile, rowScale);
            int rows = Math.min(PANEL, r1 - p0);
            for (int t = 0; t < n; t += T) {
                // A group of at most 4 tokens (the end of a bin) takes the half-width kernel: no wasted multiplies.
                if (n - t <= T / 2) panelTokens4(tile, rowScale, nb, xq.pairs, xq.scale, (t / T) * nb, sums);
                else panelTokens(tile, rowScale, nb, xq.pairs, xq.scale, (t / T) * nb, sums);
                for (int j = 0, nt = Math.min(T, n - t); j < nt; j++)
                    System.arraycopy(sums, j * PANEL, out, outOff + (t + j) * outStride + p0, rows);
            }
        }
    }

    /** tile[(b·16 + cp)·32 + m] = q − 8 of row m / 2, column 2cp + m % 2 of block b; rowScale[16b + r] = d of row r. */
    static void widenPanel(MemorySegment seg, long panel, int nb, short[] tile, float[] rowScale) {
        for (int b = 0; b < nb; b++) {
            long blk = panel + (long) BLOCK_BYTES * b;
            IntVector hs = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, blk, LE).convertShape(VectorOperators.S2I, IV, 0);
            hs.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f).intoArray(rowScale, PANEL * b);
            for (int g = 0; g < 4; g++) {
                ShortVector w = ShortVector.fromMemorySegment(SV, seg, blk + 32 + 64L * g, LE);
                int o = (b * 16 + 4 * g) * 32;   // nibble k of group g: column pair 4g + k
                w.and((short) 0xF).sub((short) 8).intoArray(tile, o);
                w.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).sub((short) 8).intoArray(tile, o + 32);
                w.lanewise(VectorOperators.LSHR, 8).and((short) 0xF).sub((short) 8).intoArray(tile, o + 64);
                w.lanewise(VectorOperators.LSHR, 12).sub((short) 8).intoArray(tile, o + 96);
            }
        }
    }

    /**
     * A panel's 16 rows · the 8 tokens of one group (blocks from {@code gb0} on): per block and column pair one
     * tile load and, per token, a broadcast pair, a multiply and an add; per block and token the pair sums are
     * folded, converted and scaled. Written out in full (see PackedQ4.panelHalf1 on helper methods).
     * sums[16j ..] receives token j.
     */
    private static void panelTokens(short[] tile, float[] rowScale, int nb, int[] xp, float[] xs, int gb0, float[] sums) {
        FloatVector f0 = FloatVector.zero(F), f1 = f0, f2 = f0, f3 = f0, f4 = f0, f5 = f0, f6 = f0, f7 = f0;
        for (int b = 0; b < nb; b++) {
            ShortVector s0 = ShortVector.zero(SV), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            int xo = (gb0 + b) * 16 * T;
            for (int cp = 0; cp < 16; cp++, xo += T) {
                ShortVector w = ShortVector.fromArray(SV, tile, (b * 16 + cp) * 32);
                s0 = s0.add(w.mul(IntVector.broadcast(IV, xp[xo]).reinterpretAsShorts()));
                s1 = s1.add(w.mul(IntVector.broadcast(IV, xp[xo + 1]).reinterpretAsShorts()));
                s2 = s2.add(w.mul(IntVector.broadcast(IV, xp[xo + 2]).reinterpretAsShorts()));
                s3 = s3.add(w.mul(IntVector.broadcast(IV, xp[xo + 3]).reinterpretAsShorts()));
                s4 = s4.add(w.mul(IntVector.broadcast(IV, xp[xo + 4]).reinterpretAsShorts()));
                s5 = s5.add(w.mul(IntVector.broadcast(IV, xp[xo + 5]).reinterpretAsShorts()));
                s6 = s6.add(w.mul(IntVector.broadcast(IV, xp[xo + 6]).reinterpretAsShorts()));
                s7 = s7.add(w.mul(IntVector.broadcast(IV, xp[xo + 7]).reinterpretAsShorts()));
            }
            // Even and odd column sums of each row (adjacent shorts) added, as floats times the row's scale, then
            // times the token's block scale: the order of PackedQ4.reference.
            FloatVector sc = FloatVector.fromArray(F, rowScale, PANEL * b);
            int xb = (gb0 + b) * T;
            IntVector v;
            v = s0.reinterpretAsInts();
            f0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb]), f0);
            v = s1.reinterpretAsInts();
            f1 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 1]), f1);
            v = s2.reinterpretAsInts();
            f2 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 2]), f2);
            v = s3.reinterpretAsInts();
            f3 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 3]), f3);
            v = s4.reinterpretAsInts();
            f4 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 4]), f4);
            v = s5.reinterpretAsInts();
            f5 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 5]), f5);
            v = s6.reinterpretAsInts();
            f6 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 6]), f6);
            v = s7.reinterpretAsInts();
            f7 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 7]), f7);
        }
        f0.intoArray(sums, 0); f1.intoArray(sums, PANEL); f2.intoArray(sums, 2 * PANEL); f3.intoArray(sums, 3 * PANEL);
        f4.intoArray(sums, 4 * PANEL); f5.intoArray(sums, 5 * PANEL); f6.intoArray(sums, 6 * PANEL); f7.intoArray(sums, 7 * PANEL);
    }

    /** {@link #panelTokens} for the first 4 tokens of a group: half the accumulators. */
    private static void panelTokens4(short[] tile, float[] rowScale, int nb, int[] xp, float[] xs, int gb0, float[] sums) {
        FloatVector f0 = FloatVector.zero(F), f1 = f0, f2 = f0, f3 = f0;
        for (int b = 0; b < nb; b++) {
            ShortVector s0 = ShortVector.zero(SV), s1 = s0, s2 = s0, s3 = s0;
            int xo = (gb0 + b) * 16 * T;
            for (int cp = 0; cp < 16; cp++, xo += T) {
                ShortVector w = ShortVector.fromArray(SV, tile, (b * 16 + cp) * 32);
                s0 = s0.add(w.mul(IntVector.broadcast(IV, xp[xo]).reinterpretAsShorts()));
                s1 = s1.add(w.mul(IntVector.broadcast(IV, xp[xo + 1]).reinterpretAsShorts()));
                s2 = s2.add(w.mul(IntVector.broadcast(IV, xp[xo + 2]).reinterpretAsShorts()));
                s3 = s3.add(w.mul(IntVector.broadcast(IV, xp[xo + 3]).reinterpretAsShorts()));
            }
            FloatVector sc = FloatVector.fromArray(F, rowScale, PANEL * b);
            int xb = (gb0 + b) * T;
            IntVector v;
            v = s0.reinterpretAsInts();
            f0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb]), f0);
            v = s1.reinterpretAsInts();
            f1 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 1]), f1);
            v = s2.reinterpretAsInts();
            f2 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 2]), f2);
            v = s3.reinterpretAsInts();
            f3 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16))
                    .convert(VectorOperators.I2F, 0)).mul(sc).fma(FloatVector.broadcast(F, xs[xb + 3]), f3);
        }
        f0.intoArray(sums, 0); f1.intoArray(sums, PANEL); f2.intoArray(sums, 2 * PANEL); f3.intoArray(sums, 3 * PANEL);
    }
}
