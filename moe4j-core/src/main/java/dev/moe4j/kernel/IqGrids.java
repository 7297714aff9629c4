package dev.moe4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The fixed lookup grids of GGML's i-quants (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S): a stored
 * index picks a group of 8 (IQ1, IQ2) or 4 (IQ3) small values from a grid. The grids are data of the format,
 * read from the resource {@code iq-grids.txt} (copied from llama.cpp's {@code ggml-common.h} by
 * {@code scripts/extract-iq-grids.py}); here each grid is held as floats, entry {@code e} at
 * {@code [e * width, (e + 1) * width)}, so a kernel loads a group with one vector load.
 *
 * <p>Signs: the IQ2/IQ3 types store each group of 8 values' signs as a byte, bit k negating value k. IQ2_XXS,
 * IQ2_XS and IQ3_XXS store only 7 bits; the 8th is their parity (an even number of minus signs), which is
 * what ggml-common.h's {@code ksigns_iq2xs} table spells out.
 */
final class IqGrids {
    /** The kernels' vector shape: a group of 8 values is one vector of {@link #F8} (its sign bits one of {@link #I8}). */
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    /** Whether the machine's vectors hold 8 floats (else the 8-lane kernels would be emulated: the scalar loops run). */
    static final boolean VECTORS_OF_8 = Species.L >= 8;

    /** Grids of 8 values per entry (unsigned magnitudes 8, 25, 43). */
    static final float[] IQ2XXS, IQ2XS, IQ2S;
    /**
     * Grids of 4 values per entry (IQ3_XXS: 4..62 in steps of 8, IQ3_S: odd 1..15), entry e at {@code 4 + 4e}:
     * 4 floats of padding at each end let an 8-float load end at any entry (lanes 4-7 = entry e from
     * {@code 4e}) or start at it (lanes 0-3 from {@code 4 + 4e}), so two entries are one load each and a blend.
     */
    static final float[] IQ3XXS, IQ3S;
    /** Lanes 4-7 of an {@link #F8} vector: where a group's second 4-value entry goes. */
    static final VectorMask<Float> HIGH_HALF = VectorMask.fromLong(F8, 0xF0);
    /** IQ1_S and IQ1_M's grid of 8 values per entry, each -1, 0 or 1. */
    static final float[] IQ1S;

    /**
     * {@code SIGN_BITS[8 * s + k]}: the float sign bit (0x80000000) when bit k of sign byte {@code s} is set,
     * else 0; XOR-ing a group's floats with the 8 words at {@code 8 * s} negates the values the byte marks.
     */
    static final int[] SIGN_BITS = new int[256 * 8];
    /** As {@link #SIGN_BITS} for a 7-bit sign index, whose 8th sign is its parity: the words of {@code ksigns(s)}. */
    static final int[] KSIGN_BITS = new int[128 * 8];

    static {
        Map<String, float[]> grids = read("iq-grids.txt");
        IQ2XXS = grid(grids, "iq2xxs_grid", 256, 8);
        IQ2XS = grid(grids, "iq2xs_grid", 512, 8);
        IQ2S = grid(grids, "iq2s_grid", 1024, 8);
        IQ3XXS = padded(grid(grids, "iq3xxs_grid", 256, 4));
        IQ3S = padded(grid(grids, "iq3s_grid", 512, 4));
        IQ1S = grid(grids, "iq1s_grid", 2048, 8);
        for (int s = 0; s < 256; s++)
            for (int k = 0; k < 8; k++) SIGN_BITS[8 * s + k] = (s >>> k & 1) << 31;
        for (int s = 0; s < 128; s++) System.arraycopy(SIGN_BITS, 8 * ksigns(s), KSIGN_BITS, 8 * s, 8);
    }

    private IqGrids() {}

    /** The 8 sign bits of a 7-bit stored sign index: the index plus its parity as bit 7 (ggml's ksigns_iq2xs). */
    static int ksigns(int sevenBits) {
        return sevenBits | (Integer.bitCount(sevenBits) & 1) << 7;
    }

    /** ±1: -1 when bit {@code k} of {@code signByte} is set. */
    static float sign(int signByte, int k) {
        return (signByte >>> k & 1) == 0 ? 1f : -1f;
    }

    private static float[] padded(float[] grid) {
        float[] out = new float[grid.length + 8];
        System.arraycopy(grid, 0, out, 4, grid.length);
        return out;
    }

    private static float[] grid(Map<String, float[]> grids, String name, int entries, int width) {
        float[] g = grids.get(name);
        if (g == null || g.length != entries * width)
            throw new IllegalStateException("iq-grids.txt: table " + name + " missing or not " + entries + " entries of " + width);
        return g;
    }

    /** Each table as floats: IQ1 grids' bytes are signed (-1, 0, 1), the others unsigned. */
    private static Map<String, float[]> read(String resource) {
        Map<String, float[]> out = new HashMap<>();
        try (InputStream in = IqGrids.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("resource " + resource + " missing from the class path");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            String line, name = null;
            float[] values = null;
            int width = 0, filled = 0;
            while ((line = r.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.trim().split("\\s+");
                if (!f[0].startsWith("0x")) {
                    name = f[0];
                    width = Integer.parseInt(f[2]);
                    values = new float[Integer.parseInt(f[1]) * width];
                    filled = 0;
                    out.put(name, values);
                    continue;
                }
                if (values == null) throw new IllegalStateException(resource + ": values before a table header");
                boolean signed = name.startsWith("iq1");
                for (String hex : f) {
                    long word = Long.parseUnsignedLong(hex.substring(2), 16);
                    for (int k = 0; k < width; k++) {
                        int b = (int) (word >>> 8 * k) & 0xFF;
                        values[filled++] = signed ? (byte) b : b;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
        return out;
    }
}
