package dev.moe4j.train;

/** AdamW (decoupled weight decay; none on norm weights) with global-norm gradient clipping. */
public final class AdamW {
    public final double[] m, v;
    private final boolean[] decay;
    private final double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;

    public AdamW(Params layout) {
        m = new double[layout.size()];
        v = new double[layout.size()];
        decay = new boolean[layout.size()];
        for (Params.Tensor t : layout.tensors()) {
            boolean d = t.kind() != Params.Kind.NORM;
            for (int i = 0; i < t.size(); i++) decay[t.offset() + i] = d;
        }
    }

    /** Scales g so its global L2 norm is at most {@code clip} (0: no clipping); returns the norm before clipping. */
    public static double clip(double[] g, double clip) {
        double ss = 0;
        for (double x : g) ss += x * x;
        double norm = Math.sqrt(ss);
        if (clip > 0 && norm > clip) {
            double s = clip / norm;
            for (int i = 0; i < g.length; i++) g[i] *= s;
        }
        return norm;
    }

    /** One update; {@code t} counts updates from 1. */
    public void step(double[] w, double[] g, double lr, double weightDecay, int t) {
        double c1 = 1 - Math.pow(beta1, t), c2 = 1 - Math.pow(beta2, t);
        for (int i = 0; i < w.length; i++) {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            double upd = (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
            if (decay[i]) upd += weightDecay * w[i];
            w[i] -= lr * upd;
        }
    }
}
