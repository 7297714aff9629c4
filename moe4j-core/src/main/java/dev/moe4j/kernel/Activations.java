package dev.moe4j.kernel;

/** Element-wise functions and normalisations on float arrays. */
public final class Activations {
    private Activations() {}

    public static float silu(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    /** dst[dOff..] = x[xOff..] / rms(x) * w, over n values (RMSNorm as Hugging Face computes it in float32). */
    public static void rmsNorm(float[] x, int xOff, float[] w, float eps, float[] dst, int dOff, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[xOff + i] * x[xOff + i];
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) dst[dOff + i] = x[xOff + i] * inv * w[i];
    }

    /** In-place softmax over v[off .. off+n). */
    public static void softmax(float[] v, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, v[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(v[off + i] - max);
            v[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) v[off + i] *= inv;
    }
}
