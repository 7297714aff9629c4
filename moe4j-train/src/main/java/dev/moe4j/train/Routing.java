package dev.moe4j.train;

import dev.moe4j.moe.CapacityLimit;
import dev.moe4j.moe.ExpertChoice;
import dev.moe4j.moe.RoutingPlan;
import dev.moe4j.moe.RoutingStats;

import java.util.Arrays;

/**
 * The differentiable side of routing, in double precision. {@link #forward} turns router logits into a core
 * {@link RoutingPlan} (selection, bins, statistics) plus the exact double weights per slot; {@link #backward}
 * turns the gradient of those weights and of the auxiliary losses into a gradient of the logits.
 */
public final class Routing {
    private Routing() {}

    /** One layer's routing decision and what its backward pass needs. */
    public static final class Routed {
        public RoutingPlan plan;
        public int tokens, experts, k;
        public double[] weights;     // [tokens * k] combine weight per slot (0 for empty slots)
        public double[] logits;      // [tokens, experts] clean router logits
        public double[] probs;       // [tokens, experts] softmax (sigmoid kinds: sigmoid) of the clean logits
        public double[] selScores;   // noisy: H = logits + eps·softplus(noise logits); else null
        public double[] noiseLogits, eps;
        public int[] picked;         // [tokens * k] experts selected before capacity dropping (-1: empty slot)
        public double[] rawWeights;  // [tokens * k] weights before dropping (the renormalisation saw all picked)
        public int[] selected;       // [experts] entries chosen per expert before capacity (f_i of the balance loss)
        public double balance, z;    // unscaled auxiliary losses
    }

    /**
     * @param noiseLogits noisy kind: x·W_noiseᵀ; else null
     * @param eps         noisy kind: standard normal draws [tokens, experts], or null at evaluation (no noise)
     * @param bias        sigmoid kind: selection bias [experts]
     * @param dropless    ignore the capacity factor (evaluation, export parity)
     */
    public static Routed forward(RouterSpec spec, int k, double[] logits, double[] noiseLogits, double[] eps, double[] bias,
                                 int tokens, int experts, boolean dropless) {
        Routed r = new Routed();
        r.tokens = tokens; r.experts = experts; r.logits = logits; r.noiseLogits = noiseLogits; r.eps = eps;
        boolean sigmoid = spec.kind() == RouterSpec.Kind.SIGMOID_BIAS;
        r.probs = logits.clone();
        double zSum = 0;
        for (int t = 0; t < tokens; t++) {
            double lse = Ops.softmax(r.probs, t * experts, experts);
            zSum += lse * lse;
            if (sigmoid) for (int e = 0; e < experts; e++) r.probs[t * experts + e] = Ops.sigmoid(logits[t * experts + e]);
        }
        r.z = zSum / tokens;
        int[] chosen;
        if (spec.kind() == RouterSpec.Kind.EXPERT_CHOICE) {
            r.k = experts;
            chosen = expertChoice(r, spec.capacityFactor());
        } else {
            r.k = k;
            chosen = topK(spec, r, bias);
        }
        r.picked = chosen.clone();
        r.rawWeights = r.weights.clone();
        r.selected = new int[experts];
        for (int e : chosen) if (e >= 0) r.selected[e]++;
        int dropped = 0;
        if (!dropless && spec.capacityFactor() > 0 && spec.kind() != RouterSpec.Kind.EXPERT_CHOICE) {
            dropped = CapacityLimit.keepWithinCapacity(chosen, tokens, r.k, experts,
                    CapacityLimit.capacity(r.k, spec.capacityFactor(), tokens, experts));
            for (int i = 0; i < chosen.length; i++) if (chosen[i] < 0) r.weights[i] = 0;
        }
        r.balance = balance(r, sigmoid);
        int[] loads = new int[experts];
        for (int e : chosen) if (e >= 0) loads[e]++;
        float[] fw = new float[r.weights.length];
        for (int i = 0; i < fw.length; i++) fw[i] = (float) r.weights[i];
        r.plan = new RoutingPlan(tokens, r.k, experts, chosen, fw, new RoutingStats(loads, dropped, r.balance, r.z));
        return r;
    }

    private static int[] topK(RouterSpec spec, Routed r, double[] bias) {
        int n = r.tokens, E = r.experts, k = r.k;
        int[] chosen = new int[n * k];
        r.weights = new double[n * k];
        double[] sel = r.probs;
        if (spec.kind() == RouterSpec.Kind.NOISY) {
            sel = r.logits.clone();
            if (r.eps != null) for (int i = 0; i < sel.length; i++) sel[i] += r.eps[i] * Ops.softplus(r.noiseLogits[i]);
            r.selScores = sel;
        }
        double[] biased = new double[E];
        for (int t = 0; t < n; t++) {
            for (int e = 0; e < E; e++) biased[e] = sel[t * E + e] + (bias == null ? 0 : bias[e]);
            top(biased, k, chosen, t * k);
            switch (spec.kind()) {
                case NOISY -> {   // softmax over the kept noisy logits
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int s = 0; s < k; s++) max = Math.max(max, sel[t * E + chosen[t * k + s]]);
                    for (int s = 0; s < k; s++) sum += r.weights[t * k + s] = Math.exp(sel[t * E + chosen[t * k + s]] - max);
                    for (int s = 0; s < k; s++) r.weights[t * k + s] /= sum;
                }
                default -> {
                    double kept = 0;
                    for (int s = 0; s < k; s++) kept += r.probs[t * E + chosen[t * k + s]];
                    boolean renorm = spec.renormalize() || spec.kind() == RouterSpec.Kind.SIGMOID_BIAS;
                    for (int s = 0; s < k; s++) {
                        double p = r.probs[t * E + chosen[t * k + s]];
                        r.weights[t * k + s] = renorm ? p / kept : p;
                    }
                }
            }
        }
        return chosen;
    }

    /** Indices of the k largest values, best first; ties to the lower index (as core's RoutingStrategy.topK). */
    static void top(double[] v, int k, int[] out, int off) {
        for (int s = 0; s < k; s++) out[off + s] = -1;
        for (int i = 0; i < v.length; i++) {
            int pos = k;
            while (pos > 0 && (out[off + pos - 1] < 0 || v[i] > v[out[off + pos - 1]])) pos--;
            if (pos >= k) continue;
            for (int s = k - 1; s > pos; s--) out[off + s] = out[off + s - 1];
            out[off + pos] = i;
        }
    }

    private static int[] expertChoice(Routed r, double factor) {
        int n = r.tokens, E = r.experts;
        int c = ExpertChoice.capacity(factor, n, E);
        int[] chosen = new int[n * E];
        Arrays.fill(chosen, -1);
        r.weights = new double[n * E];
        double[] col = new double[n];
        int[] top = new int[c];
        for (int e = 0; e < E; e++) {
            for (int t = 0; t < n; t++) col[t] = r.probs[t * E + e];
            top(col, c, top, 0);
            for (int t : top) { chosen[t * E + e] = e; r.weights[t * E + e] = col[t]; }
        }
        return chosen;
    }

    /** Switch loss N · Σ f_i · P_i; P from softmax probabilities (sigmoid: scores normalised per token). */
    private static double balance(Routed r, boolean sigmoid) {
        int n = r.tokens, E = r.experts;
        long total = 0;
        for (int c : r.selected) total += c;
        double loss = 0;
        for (int e = 0; e < E; e++) {
            double p = 0;
            for (int t = 0; t < n; t++) p += sigmoid ? r.probs[t * E + e] / rowSum(r.probs, t * E, E) : r.probs[t * E + e];
            loss += (double) r.selected[e] / total * (p / n);
        }
        return E * loss;
    }

    private static double rowSum(double[] v, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += v[off + i];
        return s;
    }

    /**
     * Gradient of the router logits (and noise logits) from {@code dw} (gradient of each slot's weight) and the
     * auxiliary losses scaled by {@code balanceCoef} and {@code zCoef}.
     */
    public static void backward(RouterSpec spec, Routed r, double[] dw, double balanceCoef, double zCoef,
                                double[] dLogits, double[] dNoiseLogits) {
        int n = r.tokens, E = r.experts, k = r.k;
        boolean sigmoid = spec.kind() == RouterSpec.Kind.SIGMOID_BIAS;
        long total = 0;
        for (int c : r.selected) total += c;
        double[] dScore = new double[E];   // gradient w.r.t. probs (softmax kinds) or sigmoid scores
        double[] p = new double[E];
        for (int t = 0; t < n; t++) {
            int o = t * E;
            Arrays.fill(dScore, 0);
            // combine weights; dropped slots have dw = 0 but still shaped the others' normalisation
            double gw = 0;
            for (int s = 0; s < k; s++) gw += dw[t * k + s] * r.rawWeights[t * k + s];
            if (spec.kind() == RouterSpec.Kind.NOISY) {   // softmax over the picked noisy logits H
                for (int s = 0; s < k; s++) {
                    int e = r.picked[t * k + s];
                    double dH = r.rawWeights[t * k + s] * (dw[t * k + s] - gw);
                    dLogits[o + e] += dH;
                    if (r.eps != null) dNoiseLogits[o + e] += dH * r.eps[o + e] * Ops.sigmoid(r.noiseLogits[o + e]);
                }
            } else {
                boolean renorm = spec.kind() != RouterSpec.Kind.EXPERT_CHOICE && (spec.renormalize() || sigmoid);
                double kept = 0;
                if (renorm) for (int s = 0; s < k; s++) kept += r.probs[o + r.picked[t * k + s]];
                for (int s = 0; s < k; s++) {
                    int e = r.picked[t * k + s];
                    if (e < 0) continue;
                    dScore[e] += renorm ? (dw[t * k + s] - gw) / kept : dw[t * k + s];
                }
            }
            // balance loss through P (f is a count, not differentiable)
            if (balanceCoef != 0) {
                double rs = sigmoid ? rowSum(r.probs, o, E) : 1;
                double[] dq = new double[E];
                double dot = 0;
                for (int e = 0; e < E; e++) {
                    dq[e] = balanceCoef * E * ((double) r.selected[e] / total) / n;
                    dot += dq[e] * r.probs[o + e] / rs;
                }
                if (sigmoid) for (int e = 0; e < E; e++) dScore[e] += (dq[e] - dot) / rs;
                else for (int e = 0; e < E; e++) dScore[e] += dq[e];
            }
            // through softmax or sigmoid to the logits
            if (sigmoid) {
                for (int e = 0; e < E; e++) { double s = r.probs[o + e]; dLogits[o + e] += dScore[e] * s * (1 - s); }
            } else {
                double dot = 0;
                for (int e = 0; e < E; e++) dot += dScore[e] * r.probs[o + e];
                for (int e = 0; e < E; e++) dLogits[o + e] += r.probs[o + e] * (dScore[e] - dot);
            }
            // z-loss: d/dl (lse²)/n = 2·lse·softmax(l)/n
            if (zCoef != 0) {
                System.arraycopy(r.logits, o, p, 0, E);
                double lse = Ops.softmax(p, 0, E);
                for (int e = 0; e < E; e++) dLogits[o + e] += zCoef * 2 * lse * p[e] / n;
            }
        }
    }

}
