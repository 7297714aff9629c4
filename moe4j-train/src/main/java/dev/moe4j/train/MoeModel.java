package dev.moe4j.train;

import dev.moe4j.moe.RoutingPlan;
import dev.moe4j.moe.RoutingStats;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A trainable MoE transformer with an explicit forward and backward pass (llm.c style), in double precision
 * so that finite differences can check every gradient. Read {@link #forward} then {@link #backward} top to bottom:
 * embeddings → per layer [RMSNorm → attention with RoPE → residual → RMSNorm → route → experts over their bins
 * → combine + shared expert → residual] → RMSNorm → output head → cross-entropy (+ auxiliary router losses).
 */
public final class MoeModel {
    private final ModelSpec spec;
    private final Params p;
    /** All weights, laid out by {@link Params}. */
    public final double[] w;
    /** Sigmoid routing: the loss-free selection bias of each layer (state, not a gradient parameter). */
    public final double[][] selectionBias;
    private final double[][] rope;

    public MoeModel(ModelSpec spec, long seed) {
        this(spec, null);
        System.arraycopy(p.init(seed, spec.layers()), 0, w, 0, w.length);
    }

    MoeModel(ModelSpec spec, double[] weights) {
        this.spec = spec;
        this.p = new Params(spec);
        this.w = weights != null ? weights : new double[p.size()];
        if (w.length != p.size()) throw new IllegalArgumentException("weights hold " + w.length + " values, the model needs " + p.size());
        this.selectionBias = new double[spec.layers()][spec.experts()];
        this.rope = AttentionOps.ropeTables(spec.seqLen(), spec.headDim(), spec.ropeTheta());
    }

    /**
     * Bytes a training step on {@code batch} sequences needs, estimated from above: weights, gradients and both Adam
     * moments ({@code 4 · params} doubles) plus what {@link #forward} keeps for {@link #backward} (per layer: about
     * 11 rows of width dim per token, the attention probabilities, the routed experts' rows) and the backward pass's
     * largest buffers (the logits' gradient and one layer's worth). Computed in floating point so absurd shapes
     * give a huge number rather than an overflow.
     */
    public static double trainingBytes(ModelSpec s, int batch) {
        double n = (double) batch * s.seqLen(), d = s.dim(), t = s.seqLen();
        double perLayer = 11 * n * d + (double) batch * s.heads() * t * t + 2 * n * s.experts()
                + s.topK() * n * (2 * d + 3.0 * s.expertFfn()) + n * (3.0 * s.sharedFfn() + d);
        double params = paramCount(s);
        double forward = s.layers() * perLayer + 2 * n * d + n * s.vocab();
        double backward = n * s.vocab() + perLayer;
        return 8 * (4 * params + forward + backward);
    }

    /** Parameters of a model of this shape, without building it (floating point: no overflow). */
    public static double paramCount(ModelSpec s) {
        double d = s.dim(), e = s.experts(), f = s.expertFfn();
        double router = s.dense() ? 0 : e * d * (s.router().kind() == RouterSpec.Kind.NOISY ? 2 : 1);
        double layer = 2 * d + 4 * d * d + router + 3 * e * f * d + 3.0 * s.sharedFfn() * d;
        return 2.0 * s.vocab() * d + d + s.layers() * layer;
    }

    public ModelSpec spec() { return spec; }
    public Params params() { return p; }

    /** Coefficients of the auxiliary losses (each averaged over MoE layers). */
    public record LossWeights(double balance, double z) {
        public static final LossWeights NONE = new LossWeights(0, 0);
    }

    /** Everything the forward pass keeps for the backward pass, and what it measured. */
    public static final class Pass {
        public int b, t, n;
        int[] inputs, targets;
        LossWeights lw;
        final Layer[] layers;
        double[] xFinal, xnFinal, rstdFinal, probs;
        /** Cross-entropy (mean over tokens), auxiliary losses (mean over MoE layers, unscaled), and the total. */
        public double ce, balance, z, loss;
        Pass(int layers) { this.layers = new Layer[layers]; }

        /** The routing plan of layer l (loads, drops and auxiliary losses are on its stats). */
        public RoutingPlan plan(int l) { return layers[l].plan; }
        /** Logits' softmax {@code [n, vocab]}. */
        public double[] probabilities() { return probs; }
    }

    static final class Layer {
        double[] xIn, xn1, rstd1, q, k, v, att, ao, xMid, xn2, rstd2;
        RoutingPlan plan;
        Routing.Routed routed;          // null for a dense layer
        double[][] ex, h1, h2, act, ey; // per expert: gathered rows, gate, up, SwiGLU, output
        double[] sh1, sh2, sAct, sy;    // shared expert
    }

    /**
     * Runs {@code b} sequences of equal length (at most {@code spec.seqLen()}). {@code targets} may be null (no loss).
     *
     * @param training noise on (noisy routing, from {@code noiseSeed}) and capacity limits applied; off for evaluation
     */
    public Pass forward(int[] inputs, int[] targets, int b, LossWeights lw, boolean training, long noiseSeed) {
        int t = inputs.length / b, d = spec.dim(), n = b * t, vocab = spec.vocab();
        if (n != inputs.length || t < 1 || t > spec.seqLen()) {
            throw new IllegalArgumentException(inputs.length + " input ids are not " + b + " sequences of 1.." + spec.seqLen() + " tokens");
        }
        Pass ps = new Pass(spec.layers());
        ps.b = b; ps.t = t; ps.n = n; ps.inputs = inputs; ps.targets = targets; ps.lw = lw;
        double[] x = new double[n * d];
        for (int r = 0; r < n; r++) {
            int id = inputs[r];
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " out of range [0, " + vocab + ")");
            System.arraycopy(w, p.embedding + id * d, x, r * d, d);
        }
        int moeLayers = 0;
        for (int l = 0; l < spec.layers(); l++) {
            Params.Layer pl = p.layers[l];
            Layer a = ps.layers[l] = new Layer();
            a.xIn = x.clone();
            a.xn1 = new double[n * d];
            a.rstd1 = Ops.rmsNorm(x, n, d, w, pl.attnNorm, spec.normEps(), a.xn1);
            a.q = new double[n * d]; a.k = new double[n * d]; a.v = new double[n * d];
            Ops.matmul(a.xn1, n, w, pl.wq, d, d, a.q);
            Ops.matmul(a.xn1, n, w, pl.wk, d, d, a.k);
            Ops.matmul(a.xn1, n, w, pl.wv, d, d, a.v);
            AttentionOps.rope(a.q, n, t, d, spec.headDim(), rope, false);
            AttentionOps.rope(a.k, n, t, d, spec.headDim(), rope, false);
            a.ao = new double[n * d];
            a.att = AttentionOps.forward(a.q, a.k, a.v, b, t, d, spec.heads(), a.ao);
            double[] y = new double[n * d];
            Ops.matmul(a.ao, n, w, pl.wo, d, d, y);
            for (int i = 0; i < n * d; i++) x[i] += y[i];
            a.xMid = x.clone();
            a.xn2 = new double[n * d];
            a.rstd2 = Ops.rmsNorm(x, n, d, w, pl.ffnNorm, spec.normEps(), a.xn2);
            Arrays.fill(y, 0);
            ffnForward(l, a, n, training, noiseSeed, y);
            for (int i = 0; i < n * d; i++) x[i] += y[i];
            if (a.routed != null) {
                moeLayers++;
                ps.balance += a.routed.balance;
                ps.z += a.routed.z;
            }
        }
        if (moeLayers > 0) { ps.balance /= moeLayers; ps.z /= moeLayers; }
        ps.xFinal = x;
        ps.xnFinal = new double[n * d];
        ps.rstdFinal = Ops.rmsNorm(x, n, d, w, p.outNorm, spec.normEps(), ps.xnFinal);
        ps.probs = new double[n * vocab];
        Ops.matmul(ps.xnFinal, n, w, p.head, vocab, d, ps.probs);
        if (targets != null) {
            double ce = 0;
            for (int r = 0; r < n; r++) {
                double lse = Ops.softmax(ps.probs, r * vocab, vocab);
                // non-finite logits make the loss NaN, which the trainer reports as divergence
                ce += Double.isFinite(lse) ? -Math.log(Math.max(ps.probs[r * vocab + targets[r]], Double.MIN_NORMAL)) : Double.NaN;
            }
            ps.ce = ce / n;
            ps.loss = ps.ce + lw.balance() * ps.balance + lw.z() * ps.z;
        }
        return ps;
    }

    /** Raw logits {@code [n, vocab]} of one evaluation forward pass (no noise, dropless), for export checks and sampling. */
    public double[] logits(int[] ids) {
        int t = ids.length, d = spec.dim();
        Pass ps = forward(ids, null, 1, LossWeights.NONE, false, 0);
        double[] out = new double[t * spec.vocab()];
        Ops.matmul(ps.xnFinal, t, w, p.head, spec.vocab(), d, out);
        return out;
    }

    private void ffnForward(int l, Layer a, int n, boolean training, long noiseSeed, double[] out) {
        Params.Layer pl = p.layers[l];
        int d = spec.dim(), f = spec.expertFfn(), E = spec.experts();
        // 1. route
        if (spec.dense()) {
            a.plan = new RoutingPlan(n, 1, 1, new int[n], filled(n, 1f), new RoutingStats(new int[] {n}, 0, 0, 0));
        } else {
            double[] logits = new double[n * E], noiseLogits = null, eps = null;
            Ops.matmul(a.xn2, n, w, pl.router, E, d, logits);
            if (pl.routerNoise >= 0) {
                noiseLogits = new double[n * E];
                Ops.matmul(a.xn2, n, w, pl.routerNoise, E, d, noiseLogits);
                if (training) {
                    eps = new double[n * E];
                    SplittableRandom rnd = new SplittableRandom(noiseSeed * 1_000_003L + l);
                    for (int i = 0; i < eps.length; i++) eps[i] = Params.gaussian(rnd);
                }
            }
            boolean sigmoid = spec.router().kind() == RouterSpec.Kind.SIGMOID_BIAS;
            a.routed = Routing.forward(spec.router(), spec.topK(), logits, noiseLogits, eps, sigmoid ? selectionBias[l] : null,
                    n, E, !training);
            a.plan = a.routed.plan;
        }
        // 2-4. dispatch each expert's bin, run the expert once over it, combine weighted rows
        RoutingPlan plan = a.plan;
        a.ex = new double[E][]; a.h1 = new double[E][]; a.h2 = new double[E][]; a.act = new double[E][]; a.ey = new double[E][];
        Ops.forEach(E, 6L * d * f * Math.max(1, n * spec.topK() / E), e -> {
            int m = plan.load(e);
            if (m == 0) return;
            double[] xe = a.ex[e] = new double[m * d];
            plan.gatherBin(e, a.xn2, d, null, xe);
            a.h1[e] = new double[m * f]; a.h2[e] = new double[m * f]; a.act[e] = new double[m * f]; a.ey[e] = new double[m * d];
            swiGlu(xe, m, pl.gate + e * f * d, pl.up + e * f * d, pl.down + e * d * f, f, a.h1[e], a.h2[e], a.act[e], a.ey[e]);
        });
        double[] slotWeights = a.routed == null ? null : a.routed.weights;
        for (int e = 0; e < E; e++) {   // combine in expert order, so sums do not depend on thread timing
            if (plan.load(e) > 0) plan.scatterAddBin(e, a.ey[e], d, slotWeights, out);
        }
        if (pl.shGate >= 0) {
            int fs = spec.sharedFfn();
            a.sh1 = new double[n * fs]; a.sh2 = new double[n * fs]; a.sAct = new double[n * fs]; a.sy = new double[n * d];
            swiGlu(a.xn2, n, pl.shGate, pl.shUp, pl.shDown, fs, a.sh1, a.sh2, a.sAct, a.sy);
            for (int i = 0; i < n * d; i++) out[i] += a.sy[i];
        }
    }

    private static float[] filled(int n, float v) {
        float[] x = new float[n];
        Arrays.fill(x, v);
        return x;
    }

    private void swiGlu(double[] x, int m, int gate, int up, int down, int f, double[] h1, double[] h2, double[] act, double[] y) {
        int d = spec.dim();
        Ops.matmul(x, m, w, gate, f, d, h1);
        Ops.matmul(x, m, w, up, f, d, h2);
        for (int i = 0; i < m * f; i++) act[i] = Ops.silu(h1[i]) * h2[i];
        Ops.matmul(act, m, w, down, d, f, y);
    }

    private void swiGluBackward(double[] dy, double[] x, int m, int gate, int up, int down, int f,
                                double[] h1, double[] h2, double[] act, double[] g, double[] dx) {
        int d = spec.dim();
        double[] dAct = new double[m * f];
        Ops.matmulBackInput(dy, m, w, down, d, f, dAct);
        Ops.matmulBackWeight(dy, act, m, d, f, g, down);
        double[] dh1 = new double[m * f], dh2 = new double[m * f];
        for (int i = 0; i < m * f; i++) {
            dh1[i] = dAct[i] * h2[i] * Ops.siluGrad(h1[i]);
            dh2[i] = dAct[i] * Ops.silu(h1[i]);
        }
        Ops.matmulBackInput(dh1, m, w, gate, f, d, dx);
        Ops.matmulBackInput(dh2, m, w, up, f, d, dx);
        Ops.matmulBackWeight(dh1, x, m, f, d, g, gate);
        Ops.matmulBackWeight(dh2, x, m, f, d, g, up);
    }

    /** Adds the gradient of {@code ps.loss} with respect to {@link #w} into {@code g}. */
    public void backward(Pass ps, double[] g) {
        int n = ps.n, t = ps.t, d = spec.dim(), vocab = spec.vocab();
        // cross-entropy through softmax: (p - onehot) / n
        double[] dLogits = ps.probs.clone();
        for (int r = 0; r < n; r++) dLogits[r * vocab + ps.targets[r]] -= 1;
        for (int i = 0; i < dLogits.length; i++) dLogits[i] /= n;
        double[] dxn = new double[n * d];
        Ops.matmulBackInput(dLogits, n, w, p.head, vocab, d, dxn);
        Ops.matmulBackWeight(dLogits, ps.xnFinal, n, vocab, d, g, p.head);
        double[] dx = new double[n * d];
        Ops.rmsNormBackward(dxn, ps.xFinal, ps.rstdFinal, n, d, w, p.outNorm, dx, g, p.outNorm);
        int moeLayers = 0;
        for (Layer a : ps.layers) if (a.routed != null) moeLayers++;
        for (int l = spec.layers() - 1; l >= 0; l--) {
            Params.Layer pl = p.layers[l];
            Layer a = ps.layers[l];
            // feed-forward residual: x = xMid + ffn(xn2)
            double[] dxn2 = new double[n * d];
            ffnBackward(l, a, n, dx, dxn2, g, ps.lw, moeLayers);
            Ops.rmsNormBackward(dxn2, a.xMid, a.rstd2, n, d, w, pl.ffnNorm, dx, g, pl.ffnNorm);
            // attention residual: xMid = xIn + o(attention(rope(q), rope(k), v))
            double[] dao = new double[n * d];
            Ops.matmulBackInput(dx, n, w, pl.wo, d, d, dao);
            Ops.matmulBackWeight(dx, a.ao, n, d, d, g, pl.wo);
            double[] dq = new double[n * d], dk = new double[n * d], dv = new double[n * d];
            AttentionOps.backward(dao, a.q, a.k, a.v, a.att, ps.b, t, d, spec.heads(), dq, dk, dv);
            AttentionOps.rope(dq, n, t, d, spec.headDim(), rope, true);
            AttentionOps.rope(dk, n, t, d, spec.headDim(), rope, true);
            double[] dxn1 = new double[n * d];
            Ops.matmulBackInput(dq, n, w, pl.wq, d, d, dxn1);
            Ops.matmulBackInput(dk, n, w, pl.wk, d, d, dxn1);
            Ops.matmulBackInput(dv, n, w, pl.wv, d, d, dxn1);
            Ops.matmulBackWeight(dq, a.xn1, n, d, d, g, pl.wq);
            Ops.matmulBackWeight(dk, a.xn1, n, d, d, g, pl.wk);
            Ops.matmulBackWeight(dv, a.xn1, n, d, d, g, pl.wv);
            Ops.rmsNormBackward(dxn1, a.xIn, a.rstd1, n, d, w, pl.attnNorm, dx, g, pl.attnNorm);
        }
        for (int r = 0; r < n; r++) Ops.axpy(1.0, dx, r * d, g, p.embedding + ps.inputs[r] * d, d);
    }

    private void ffnBackward(int l, Layer a, int n, double[] dOut, double[] dxn2, double[] g, LossWeights lw, int moeLayers) {
        Params.Layer pl = p.layers[l];
        int d = spec.dim(), f = spec.expertFfn(), E = spec.experts();
        if (pl.shGate >= 0) {
            swiGluBackward(dOut, a.xn2, n, pl.shGate, pl.shUp, pl.shDown, spec.sharedFfn(), a.sh1, a.sh2, a.sAct, g, dxn2);
        }
        RoutingPlan plan = a.plan;
        double[] dWeights = a.routed == null ? null : new double[a.routed.weights.length];
        double[][] dxe = new double[E][];
        Ops.forEach(E, 12L * d * f * Math.max(1, n * spec.topK() / E), e -> {   // each expert writes only its own slices
            int m = plan.load(e);
            if (m == 0) return;
            double[] dy = new double[m * d];
            plan.gatherBin(e, dOut, d, a.routed == null ? null : a.routed.weights, dy);
            if (dWeights != null) {
                for (int i = 0; i < m; i++) dWeights[plan.binEntry(e, i)] = Ops.dot(dOut, plan.binToken(e, i) * d, a.ey[e], i * d, d);
            }
            dxe[e] = new double[m * d];
            swiGluBackward(dy, a.ex[e], m, pl.gate + e * f * d, pl.up + e * f * d, pl.down + e * d * f, f,
                    a.h1[e], a.h2[e], a.act[e], g, dxe[e]);
        });
        for (int e = 0; e < E; e++) if (plan.load(e) > 0) plan.scatterAddBin(e, dxe[e], d, null, dxn2);
        if (a.routed == null) return;
        double[] dLogits = new double[n * E];
        double[] dNoise = pl.routerNoise >= 0 ? new double[n * E] : null;
        Routing.backward(spec.router(), a.routed, dWeights, lw.balance() / moeLayers, lw.z() / moeLayers, dLogits, dNoise);
        Ops.matmulBackInput(dLogits, n, w, pl.router, E, d, dxn2);
        Ops.matmulBackWeight(dLogits, a.xn2, n, E, d, g, pl.router);
        if (dNoise != null) {
            Ops.matmulBackInput(dNoise, n, w, pl.routerNoise, E, d, dxn2);
            Ops.matmulBackWeight(dNoise, a.xn2, n, E, d, g, pl.routerNoise);
        }
    }

    /** How one sequence is routed (evaluation mode): one core {@link RoutingPlan} per layer, with loads and aux losses on its stats. */
    public RoutingPlan[] route(int[] ids) {
        Pass ps = forward(ids, null, 1, LossWeights.NONE, false, 0);
        RoutingPlan[] plans = new RoutingPlan[spec.layers()];
        for (int l = 0; l < plans.length; l++) plans[l] = ps.plan(l);
        return plans;
    }

    /** Continues {@code prompt} by {@code count} tokens, sampling at {@code temperature} (0: greedy) with a seeded generator. */
    public int[] generate(int[] prompt, int count, double temperature, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] ids = java.util.Arrays.copyOf(prompt, prompt.length + count);
        int vocab = spec.vocab();
        for (int i = prompt.length; i < ids.length; i++) {
            int from = Math.max(0, i - spec.seqLen());
            double[] logits = logits(java.util.Arrays.copyOfRange(ids, from, i));
            int off = (i - from - 1) * vocab, best = 0;
            if (temperature <= 0) {
                for (int v = 1; v < vocab; v++) if (logits[off + v] > logits[off + best]) best = v;
            } else {
                double[] pr = new double[vocab];
                for (int v = 0; v < vocab; v++) pr[v] = logits[off + v] / temperature;
                Ops.softmax(pr, 0, vocab);
                double u = rnd.nextDouble(), acc = 0;
                best = vocab - 1;
                for (int v = 0; v < vocab; v++) { acc += pr[v]; if (u < acc) { best = v; break; } }
            }
            ids[i] = best;
        }
        return java.util.Arrays.copyOfRange(ids, prompt.length, ids.length);
    }

    /** Parameters in the model, and those one token uses (all but the unchosen experts). */
    public long totalParams() { return p.size(); }

    public long activeParams() {
        long unused = (long) (spec.experts() - spec.topK()) * 3L * spec.expertFfn() * spec.dim() * spec.layers();
        return p.size() - unused;
    }

    /**
     * Forward FLOPs per token: 2 per weight a token multiplies by (embedding lookup excluded, head included) plus
     * causal attention at full context (2 matmuls over on average T/2 positions, 2 FLOPs each: 2·T·dim per layer).
     */
    public long flopsPerToken() {
        long matmulParams = activeParams() - (long) spec.vocab() * spec.dim();
        return 2 * matmulParams + 2L * spec.layers() * spec.seqLen() * spec.dim();
    }

    /** Loss-free balancing (DeepSeek-V3): nudge each expert's selection bias towards the mean load. */
    public void updateSelectionBias(Pass ps) {
        if (spec.router().kind() != RouterSpec.Kind.SIGMOID_BIAS || spec.router().biasRate() == 0) return;
        for (int l = 0; l < spec.layers(); l++) {
            int[] sel = ps.layers[l].routed.selected;
            double mean = 0;
            for (int c : sel) mean += c;
            mean /= sel.length;
            for (int e = 0; e < sel.length; e++) selectionBias[l][e] += spec.router().biasRate() * Math.signum(mean - sel[e]);
        }
    }
}
