package dev.moe4j.model;

import java.util.Map;
import java.util.SplittableRandom;

/** Plain double-precision helpers for the naive reference forward passes, and random weights. */
final class NaiveMath {
    private NaiveMath() {}

    static double[] rms(double[] x, float[] w, double eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * inv * w[i];
        return out;
    }

    /** W[rows, in] · x (+ b). */
    static double[] linear(float[] w, double[] x, int rows, float[] bias) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = bias == null ? 0 : bias[r];
            for (int c = 0; c < x.length; c++) s += w[r * x.length + c] * x[c];
            y[r] = s;
        }
        return y;
    }

    static double[] slice(double[] v, int from, int n) {
        return java.util.Arrays.copyOfRange(v, from, from + n);
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    static double[] swiglu(float[] gate, float[] up, float[] down, double[] x, int f, int d) {
        double[] g = linear(gate, x, f, null), u = linear(up, x, f, null);
        for (int i = 0; i < f; i++) g[i] = g[i] * sigmoid(g[i]) * u[i];
        return linear(down, g, d, null);
    }

    /** Softmax of the scores, where an optional sink logit joins the denominator only. */
    static double[] softmax(double[] s, Double sink) {
        double max = sink == null ? Double.NEGATIVE_INFINITY : sink;
        for (double v : s) max = Math.max(max, v);
        double sum = sink == null ? 0 : Math.exp(sink - max);
        double[] p = new double[s.length];
        for (int i = 0; i < s.length; i++) { p[i] = Math.exp(s[i] - max); sum += p[i]; }
        for (int i = 0; i < s.length; i++) p[i] /= sum;
        return p;
    }

    static void put(Map<String, float[]> w, Map<String, long[]> shapes, SplittableRandom r, String name, double scale, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (scale * (r.nextDouble() * 2 - 1));
        w.put(name, v);
        shapes.put(name, shape);
    }

    static void putNorm(Map<String, float[]> w, Map<String, long[]> shapes, SplittableRandom r, String name, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.5 + r.nextDouble());
        w.put(name, v);
        shapes.put(name, new long[] {n});
    }
}
