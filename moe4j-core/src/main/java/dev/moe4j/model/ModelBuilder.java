package dev.moe4j.model;

import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.PackedQ4;
import dev.moe4j.model.TensorNames.Projection;
import dev.moe4j.moe.DenseMlp;
import dev.moe4j.moe.ExpertBank;
import dev.moe4j.moe.LinearRouter;
import dev.moe4j.moe.MoeLayer;
import dev.moe4j.moe.SharedExpert;
import dev.moe4j.moe.SwiGluExperts;
import dev.moe4j.tensor.Tensor;

/**
 * Assembles a {@link MoeTransformer} from a config and named tensors, checking every tensor's shape and type,
 * and that the checkpoint holds no tensor the model does not use.
 */
public final class ModelBuilder {
    private final ModelConfig c;
    private final TensorNames names;
    private final Weights w;

    public ModelBuilder(ModelConfig config, TensorNames names, Weights weights) {
        this.c = config;
        this.names = names;
        this.w = weights;
    }

    /** @throws dev.moe4j.util.Moe4jException naming the file and the tensor that is missing, mis-shaped, mistyped or unused */
    public MoeTransformer build() {
        w.checkOneHalfType();
        int d = c.hidden(), v = c.vocabSize();
        Matrix embedding = w.rowTable(names.embedding(), v, d);
        Matrix output;
        if (w.has(names.output())) output = w.matrix(names.output(), v, d);
        else if (c.tiedEmbeddings()) output = embedding;
        else throw w.error("missing tensor '" + names.output() + "' (the config does not tie the output to the embeddings)");
        Block[] blocks = new Block[c.layers()];
        for (int l = 0; l < c.layers(); l++) blocks[l] = block(l);
        MoeTransformer transformer = new MoeTransformer(c, embedding, blocks, w.vector(names.outputNorm(), d), output);
        w.checkAllUsed(names::ignorable);
        return transformer;
    }

    private Block block(int l) {
        int d = c.hidden(), q = c.qDim(), kv = c.kvDim();
        float[] qNorm = null, kNorm = null;
        switch (c.architecture().qkNorm) {
            case WHOLE -> { qNorm = w.vector(names.qNorm(l), q); kNorm = w.vector(names.kNorm(l), kv); }
            case PER_HEAD -> { qNorm = w.vector(names.qNorm(l), c.headDim()); kNorm = w.vector(names.kNorm(l), c.headDim()); }
            case NONE -> { }
        }
        AttentionLayer attention;
        if (c.attention().mla() != null) {
            attention = latentAttention(l);
        } else {
            attention = new Attention(c,
                    w.matrix(names.q(l), q, d), w.matrix(names.k(l), kv, d), w.matrix(names.v(l), kv, d), w.matrix(names.o(l), d, q),
                    w.optionalVector(names.qBias(l), q), w.optionalVector(names.kBias(l), kv), w.optionalVector(names.vBias(l), kv),
                    qNorm, kNorm, w.optionalVector(names.oBias(l), d), w.optionalVector(names.sinks(l), c.heads()),
                    c.attention().slides(l) ? c.attention().slidingWindow() : 0);
        }
        float[] attnNorm = w.vector(names.attnNorm(l), d), ffnNorm = w.vector(names.ffnNorm(l), d);
        if (c.isDense(l)) {
            int f = c.denseFfn();
            DenseMlp mlp = new DenseMlp(w.matrix(names.denseMlp(l, Projection.GATE), f, d),
                    w.matrix(names.denseMlp(l, Projection.UP), f, d), w.matrix(names.denseMlp(l, Projection.DOWN), d, f));
            return new Block(attnNorm, attention, ffnNorm, mlp, c.normEps());
        }
        int e = c.experts();
        Architecture arch = c.architecture();
        LinearRouter router = new LinearRouter(w.matrix(names.router(l), e, d), w.optionalVector(names.routerBias(l), e),
                arch.routing(c, names, w, l));
        ExpertBank bank = arch.experts(c, names, w, l);
        return new Block(attnNorm, attention, ffnNorm, new MoeLayer(router, bank, sharedExpert(l)), c.normEps());
    }

    private MlaAttention latentAttention(int l) {
        ModelConfig.Mla m = c.attention().mla();
        int d = c.hidden(), h = c.heads(), qk = m.qkHeadDim();
        Matrix wq = null, wqa = null, wqb = null;
        float[] qaNorm = null;
        if (m.qLoraRank() > 0) {
            wqa = w.matrix(names.qA(l), m.qLoraRank(), d);
            qaNorm = w.vector(names.qANorm(l), m.qLoraRank());
            wqb = w.matrix(names.qB(l), h * qk, m.qLoraRank());
        } else {
            wq = w.matrix(names.q(l), h * qk, d);
        }
        int rank = m.kvLoraRank();
        Matrix wkvb = null, wkbT = null, wvb = null;
        if (names.kB(l) != null && (w.has(names.kB(l)) || w.has(names.vB(l)))) {
            // Today's converter layout: k_b transposed per head [heads, rank, nope], v_b [heads, v dim, rank]; read row by row.
            Tensor kb = w.require(names.kB(l), h, rank, m.nopeDim()), vb = w.require(names.vB(l), h, m.vDim(), rank);
            wkbT = new Matrix(kb.name(), kb.dtype(), kb.data(), 0, h * rank, m.nopeDim());
            wvb = new Matrix(vb.name(), vb.dtype(), vb.data(), 0, h * m.vDim(), rank);
        } else {
            wkvb = w.matrix(names.kvB(l), h * (m.nopeDim() + m.vDim()), rank);
        }
        return new MlaAttention(h, rank, m.nopeDim(), m.ropeDim(), m.vDim(), c.normEps(), wq, wqa, qaNorm, wqb,
                w.matrix(names.kvA(l), rank + m.ropeDim(), d), w.vector(names.kvANorm(l), rank),
                new MlaAttention.LatentProjections(wkvb, wkbT, wvb), w.matrix(names.o(l), d, h * m.vDim()),
                c.ropeTheta(), c.ropeStyle(), c.ropeScaling(), c.architecture().attentionScale(c));
    }

    /** SwiGLU experts from fused gate/up, merged 3-D or per-expert tensors, whichever the file has. */
    static ExpertBank swiGluExperts(ModelConfig c, TensorNames names, Weights w, int l) {
        int n = c.experts(), d = c.hidden(), f = c.expertFfn();
        Matrix[] gate = new Matrix[n], up = new Matrix[n], down = new Matrix[n];
        String fused = names.fusedGateUp(l);
        String mergedGate = names.mergedExperts(l, Projection.GATE), mergedDown = names.mergedExperts(l, Projection.DOWN);
        if (fused != null && (w.has(fused) || w.has(fused + ".weight"))) {
            String guName = w.has(fused) ? fused : fused + ".weight";
            // Gate and up are row ranges of one tensor: repacking in panels of 16 rows must not split across them.
            Tensor gu = f % PackedQ4.PANEL == 0 ? w.requireForProducts(guName, n, 2L * f, d) : w.require(guName, n, 2L * f, d);
            Tensor dn = w.requireForProducts(w.has(mergedDown) ? mergedDown : mergedDown + ".weight", n, d, f);
            for (int e = 0; e < n; e++) {
                Matrix slab = Matrix.slab(gu, e);
                gate[e] = slab.rowRange(0, f);
                up[e] = slab.rowRange(f, f);
                down[e] = Matrix.slab(dn, e);
            }
        } else if (mergedGate != null && w.has(mergedGate)) {
            Tensor g = w.requireForProducts(mergedGate, n, f, d);
            Tensor u = w.requireForProducts(names.mergedExperts(l, Projection.UP), n, f, d);
            Tensor dn = w.requireForProducts(mergedDown, n, d, f);
            for (int e = 0; e < n; e++) {
                gate[e] = Matrix.slab(g, e);
                up[e] = Matrix.slab(u, e);
                down[e] = Matrix.slab(dn, e);
            }
        } else {
            for (int e = 0; e < n; e++) {
                gate[e] = w.matrix(names.expert(l, e, Projection.GATE), f, d);
                up[e] = w.matrix(names.expert(l, e, Projection.UP), f, d);
                down[e] = w.matrix(names.expert(l, e, Projection.DOWN), d, f);
            }
        }
        return new SwiGluExperts(gate, up, down);
    }

    private SharedExpert sharedExpert(int l) {
        int f = c.sharedExpertFfn(), d = c.hidden();
        if (f == 0) return null;
        Matrix gateVec = null;
        if (c.sharedExpertGated()) {
            // Stored as [1, hidden] by transformers; GGUF writes it as a 1-D [hidden] vector or [1, hidden].
            Tensor g = w.requireEither(names.sharedExpertGate(l), new long[] {1, d}, new long[] {d});
            gateVec = new Matrix(g.name(), g.dtype(), g.data(), 0, 1, d);
        }
        return new SharedExpert(w.matrix(names.sharedExpert(l, Projection.GATE), f, d),
                w.matrix(names.sharedExpert(l, Projection.UP), f, d),
                w.matrix(names.sharedExpert(l, Projection.DOWN), d, f), gateVec);
    }
}
