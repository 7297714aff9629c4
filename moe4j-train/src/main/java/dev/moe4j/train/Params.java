package dev.moe4j.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where each tensor lives in the flat parameter array (llm.c style: one array for weights, one of the same
 * layout for gradients and each optimiser moment), so optimiser, clipping, checkpoints and gradient checks
 * are each one loop.
 */
public final class Params {
    /** What a tensor is, for gradient checks per kind and for weight decay (norms get none). */
    public enum Kind { EMBEDDING, NORM, ATTENTION, ROUTER, ROUTER_NOISE, EXPERT, SHARED, HEAD }

    /** A tensor: {@code shape} outermost first, {@code size} values from {@code offset}. */
    public record Tensor(String name, Kind kind, int offset, int[] shape, int size) {}

    private final Map<String, Tensor> byName = new LinkedHashMap<>();
    private int size;

    /** Per-layer offsets, resolved once for the forward and backward passes. */
    public static final class Layer {
        public int attnNorm, wq, wk, wv, wo, ffnNorm, router = -1, routerNoise = -1, gate, up, down, shGate = -1, shUp = -1, shDown = -1;
    }

    public final int embedding, outNorm, head;
    public final Layer[] layers;

    /** @throws IllegalArgumentException when the model has more than 2^31-1 parameters */
    public Params(ModelSpec s) {
        int d = s.dim(), f = s.expertFfn(), e = s.experts(), fs = s.sharedFfn();
        embedding = add("embedding", Kind.EMBEDDING, s.vocab(), d);
        layers = new Layer[s.layers()];
        for (int l = 0; l < s.layers(); l++) {
            Layer p = layers[l] = new Layer();
            String b = "layers." + l + ".";
            p.attnNorm = add(b + "attn_norm", Kind.NORM, d);
            p.wq = add(b + "attn.q", Kind.ATTENTION, d, d);
            p.wk = add(b + "attn.k", Kind.ATTENTION, d, d);
            p.wv = add(b + "attn.v", Kind.ATTENTION, d, d);
            p.wo = add(b + "attn.o", Kind.ATTENTION, d, d);
            p.ffnNorm = add(b + "ffn_norm", Kind.NORM, d);
            if (!s.dense()) p.router = add(b + "router", Kind.ROUTER, e, d);
            if (!s.dense() && s.router().kind() == RouterSpec.Kind.NOISY) p.routerNoise = add(b + "router_noise", Kind.ROUTER_NOISE, e, d);
            p.gate = add(b + "experts.gate", Kind.EXPERT, e, f, d);
            p.up = add(b + "experts.up", Kind.EXPERT, e, f, d);
            p.down = add(b + "experts.down", Kind.EXPERT, e, d, f);
            if (fs > 0) {
                p.shGate = add(b + "shared.gate", Kind.SHARED, fs, d);
                p.shUp = add(b + "shared.up", Kind.SHARED, fs, d);
                p.shDown = add(b + "shared.down", Kind.SHARED, d, fs);
            }
        }
        outNorm = add("out_norm", Kind.NORM, d);
        head = add("head", Kind.HEAD, s.vocab(), d);
    }

    private int add(String name, Kind kind, int... shape) {
        try {
            int n = 1;
            for (int x : shape) n = Math.multiplyExact(n, x);
            byName.put(name, new Tensor(name, kind, size, shape, n));
            int off = size;
            size = Math.addExact(size, n);
            return off;
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("the model has more than 2^31-1 parameters (the most one array holds; at "
                    + name + "): reduce dim, vocab, experts, ffn or layers");
        }
    }

    public int size() { return size; }

    public List<Tensor> tensors() { return Collections.unmodifiableList(new ArrayList<>(byName.values())); }

    /** The tensor holding flat index {@code i} (for error messages). */
    public Tensor tensorAt(int i) {
        for (Tensor t : byName.values()) if (i >= t.offset() && i < t.offset() + t.size()) return t;
        throw new IllegalArgumentException("index " + i + " is outside the " + size + " parameters");
    }

    public Tensor tensor(String name) {
        Tensor t = byName.get(name);
        if (t == null) throw new IllegalArgumentException("no parameter '" + name + "'");
        return t;
    }

    /** GPT-2-style initialisation: N(0, 0.02), output projections scaled by 1/sqrt(2·layers), norms 1. */
    public double[] init(long seed, int layerCount) {
        double[] w = new double[size];
        SplittableRandom rnd = new SplittableRandom(seed);
        double resid = 0.02 / Math.sqrt(2.0 * layerCount);
        for (Tensor t : byName.values()) {
            boolean output = t.name().endsWith(".o") || t.name().endsWith(".down");
            double std = t.kind() == Kind.ROUTER_NOISE ? 0.0 : output ? resid : 0.02;
            for (int i = 0; i < t.size(); i++) {
                w[t.offset() + i] = t.kind() == Kind.NORM ? 1.0 : std * gaussian(rnd);
            }
        }
        return w;
    }

    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
