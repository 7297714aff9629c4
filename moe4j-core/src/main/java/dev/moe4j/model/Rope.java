package dev.moe4j.model;

/** Rotary position embedding over the first {@code dim} values of each head. */
public final class Rope {
    private final int dim;
    private final double[] invFreq;
    private final RopeStyle style;

    public Rope(int dim, double theta, RopeStyle style) {
        this.dim = dim;
        this.style = style;
        this.invFreq = new double[dim / 2];
        for (int i = 0; i < dim / 2; i++) invFreq[i] = 1.0 / Math.pow(theta, (2.0 * i) / dim);
    }

    /** cos/sin tables for positions [start, start+n): {@code [n, dim/2]} each. */
    public float[][] tables(int start, int n) {
        return tables(start, n, new float[2][]);
    }

    /**
     * As {@link #tables(int, int)}, written into {@code into = {cos, sin}}, whose arrays are replaced only when
     * missing or too small (so a decode loop that keeps its tables allocates none); returns {@code into}.
     */
    public float[][] tables(int start, int n, float[][] into) {
        int half = dim / 2;
        if (into[0] == null || into[0].length < n * half) {
            into[0] = new float[n * half];
            into[1] = new float[n * half];
        }
        float[] cos = into[0], sin = into[1];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < half; i++) {
                double a = (start + t) * invFreq[i];
                cos[t * half + i] = (float) Math.cos(a);
                sin[t * half + i] = (float) Math.sin(a);
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
