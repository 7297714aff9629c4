package dev.moe4j.model;

/**
 * Rotary position embedding over the first {@code dim} values of each head, with the checkpoint's
 * {@link RopeScaling} (frequencies, and the factor transformers puts on cos and sin).
 */
public final class Rope {
    private final int dim;
    private final double theta;
    private final RopeStyle style;
    private final RopeScaling scaling;
    private final double[] invFreq;         // for scalings whose frequencies do not depend on the length
    private final double[] shortInvFreq;    // longrope within the original context
    private final double cosSinFactor;

    public Rope(int dim, double theta, RopeStyle style) {
        this(dim, theta, style, RopeScaling.NONE);
    }

    public Rope(int dim, double theta, RopeStyle style, RopeScaling scaling) {
        this.dim = dim;
        this.theta = theta;
        this.style = style;
        this.scaling = scaling;
        boolean longrope = scaling.type() == RopeScaling.Type.LONGROPE;
        // Dynamic: the frequencies within max_position_embeddings (the plain ones); longrope: those beyond its original context.
        this.invFreq = scaling.inverseFrequencies(theta, dim, longrope ? Integer.MAX_VALUE : 0);
        this.shortInvFreq = longrope ? scaling.inverseFrequencies(theta, dim, 0) : invFreq;
        this.cosSinFactor = scaling.cosSinFactor();
    }

    /** cos/sin tables for positions [start, start+n): {@code [n, dim/2]} each. */
    public float[][] tables(int start, int n) {
        return tables(start, n, new float[2][]);
    }

    /**
     * As {@link #tables(int, int)}, written into {@code into = {cos, sin}}, whose arrays are replaced only when
     * missing or too small (so a decode loop that keeps its tables allocates none); returns {@code into}.
     * Dynamic and longrope scaling use the frequencies of a pass ending at position {@code start + n - 1}, as
     * transformers recomputes them for each forward call of a sequence (a cached key keeps the rotation it got).
     */
    public float[][] tables(int start, int n, float[][] into) {
        int half = dim / 2;
        if (into[0] == null || into[0].length < n * half) {
            into[0] = new float[n * half];
            into[1] = new float[n * half];
        }
        float[] cos = into[0], sin = into[1];
        int seqLen = start + n;
        double[] inv = scaling.type() == RopeScaling.Type.LONGROPE && seqLen <= scaling.originalContext() ? shortInvFreq : invFreq;
        boolean dynamic = scaling.type() == RopeScaling.Type.DYNAMIC && seqLen > scaling.maxPositions();
        double base = dynamic ? scaling.dynamicBase(theta, dim, seqLen) : 0;
        for (int i = 0; i < half; i++) {
            double freq = dynamic ? 1.0 / Math.pow(base, (2.0 * i) / dim) : inv[i];
            for (int t = 0; t < n; t++) {
                double a = (start + t) * freq;
                cos[t * half + i] = (float) (Math.cos(a) * cosSinFactor);
                sin[t * half + i] = (float) (Math.sin(a) * cosSinFactor);
            }
        }
        return into;
    }

    /** Rotates one head's vector {@code v[off .. off+dim)} in place with row t of the tables. */
    public void apply(float[] v, int off, float[][] tables, int t) {
        int half = dim / 2;
        float[] cos = tables[0], sin = tables[1];
        for (int i = 0; i < half; i++) {
            float c = cos[t * half + i], s = sin[t * half + i];
            int a, b;
            if (style == RopeStyle.HALF) { a = off + i; b = off + i + half; }
            else { a = off + 2 * i; b = a + 1; }
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x1 * c + x0 * s;
        }
    }
}
