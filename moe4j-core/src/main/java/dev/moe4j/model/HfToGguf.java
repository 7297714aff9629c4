package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.format.gguf.GgufQuantizer.Rows;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.format.gguf.QuantMix;
import dev.moe4j.format.safetensors.SafetensorsStore;
import dev.moe4j.model.TensorNames.Projection;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.tokenizer.GgufVocabExport;
import dev.moe4j.util.Moe4jException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts a Hugging Face checkpoint folder to a quantised GGUF in llama.cpp's layout: its tensor names,
 * merged 3-D expert tensors, {@code {arch}.*} metadata and the tokenizer as GGUF vocab metadata, with
 * q/k rows permuted for the {@code llama} architecture as llama.cpp's converter does.
 */
public final class HfToGguf {
    private final Path dir;
    private final ModelConfig c;
    private final Weights w;
    private final TensorNames hf;
    private final TensorNames gg;
    private final GgufQuantizer q;

    private HfToGguf(Path dir, ModelConfig config, SafetensorsStore store, GgufQuantizer q) {
        this.dir = dir;
        this.c = config;
        this.w = new Weights(store);
        this.hf = new HfTensorNames(config.architecture());
        this.gg = config.architecture().ggufNames();
        this.q = q;
    }

    public static void quantize(Path dir, Path out, DType type, GgufQuantizer.Listener listener) {
        quantize(dir, out, () -> new GgufQuantizer(type, listener));
    }

    /** As {@link #quantize(Path, Path, DType, GgufQuantizer.Listener)}, each tensor typed by llama-quantize's {@code mix}. */
    public static void quantize(Path dir, Path out, QuantMix mix, GgufQuantizer.Listener listener) {
        quantize(dir, out, () -> new GgufQuantizer(mix, listener));
    }

    private static void quantize(Path dir, Path out, java.util.function.Supplier<GgufQuantizer> quantizer) {
        try (SafetensorsStore store = SafetensorsStore.open(dir)) {
            ModelConfig config = HfConfigReader.readFolder(dir, store);
            checkSupported(dir, config);
            if (Quantization.readFolder(dir).isFp8())
                throw new Moe4jException(dir + ": a block-FP8 checkpoint is already quantised; quantize reads F32, F16 or BF16 weights"
                        + " (gpt-oss's MXFP4 experts excepted), since requantising compounds the error");
            HfToGguf h = new HfToGguf(dir, config, store, quantizer.get());
            h.metadata();
            h.tensors();
            h.q.write(out);
        }
    }

    private static void checkSupported(Path dir, ModelConfig c) {
        c.architecture().checkGgufWritable(dir, c);
        RopeScalingReader.checkGgufWritable(dir, c.ropeScaling(), c.architecture());
    }

    private void metadata() {
        GgufWriter g = q.writer();
        GgufConfigWriter.write(c, dir.toAbsolutePath().normalize().getFileName().toString(), g);
        GgufVocabExport.write(dir, g, c.vocabSize());
    }

    private void tensors() {
        int d = c.hidden(), v = c.vocabSize();
        add(gg.embedding(), w.require(hf.embedding(), v, d));
        add(gg.outputNorm(), w.require(hf.outputNorm(), d));
        if (!c.tiedEmbeddings() && w.has(hf.output())) add(gg.output(), w.require(hf.output(), v, d));
        for (int l = 0; l < c.layers(); l++) layer(l);
    }

    private void layer(int l) {
        int d = c.hidden(), qd = c.qDim(), kv = c.kvDim();
        add(gg.attnNorm(l), w.require(hf.attnNorm(l), d));
        ModelConfig.Mla m = c.attention().mla();
        if (m != null) {
            int h = c.heads();
            if (m.qLoraRank() > 0) {
                add(gg.qA(l), w.require(hf.qA(l), m.qLoraRank(), d));
                add(gg.qANorm(l), w.require(hf.qANorm(l), m.qLoraRank()));
                add(gg.qB(l), w.require(hf.qB(l), (long) h * m.qkHeadDim(), m.qLoraRank()));
            } else {
                add(gg.q(l), w.require(hf.q(l), (long) h * m.qkHeadDim(), d));
            }
            add(gg.kvA(l), w.require(hf.kvA(l), m.kvLoraRank() + m.ropeDim(), d));
            add(gg.kvANorm(l), w.require(hf.kvANorm(l), m.kvLoraRank()));
            latentProjections(l, w.require(hf.kvB(l), (long) h * (m.nopeDim() + m.vDim()), m.kvLoraRank()));
            add(gg.o(l), w.require(hf.o(l), d, (long) h * m.vDim()));
        } else {
            boolean permute = c.architecture().permuteQkForGguf();
            Tensor tq = w.require(hf.q(l), qd, d), tk = w.require(hf.k(l), kv, d);
            q.add(gg.q(l), tq.shape(), permute ? permuted(tq) : rows(tq));
            q.add(gg.k(l), tk.shape(), permute ? permuted(tk) : rows(tk));
            add(gg.v(l), w.require(hf.v(l), kv, d));
            add(gg.o(l), w.require(hf.o(l), d, qd));
            optional(gg.qBias(l), hf.qBias(l), qd);
            optional(gg.kBias(l), hf.kBias(l), kv);
            optional(gg.vBias(l), hf.vBias(l), kv);
            optional(gg.oBias(l), hf.oBias(l), d);
            optional(gg.sinks(l), hf.sinks(l), c.heads());
            switch (c.architecture().qkNorm) {
                case WHOLE -> { add(gg.qNorm(l), w.require(hf.qNorm(l), qd)); add(gg.kNorm(l), w.require(hf.kNorm(l), kv)); }
                case PER_HEAD -> { add(gg.qNorm(l), w.require(hf.qNorm(l), c.headDim())); add(gg.kNorm(l), w.require(hf.kNorm(l), c.headDim())); }
                case NONE -> { }
            }
        }
        add(gg.ffnNorm(l), w.require(hf.ffnNorm(l), d));
        if (c.isDense(l)) {
            int f = c.denseFfn();
            add(gg.denseMlp(l, Projection.GATE), w.require(hf.denseMlp(l, Projection.GATE), f, d));
            add(gg.denseMlp(l, Projection.UP), w.require(hf.denseMlp(l, Projection.UP), f, d));
            add(gg.denseMlp(l, Projection.DOWN), w.require(hf.denseMlp(l, Projection.DOWN), d, f));
            return;
        }
        add(gg.router(l), w.require(hf.router(l), c.experts(), d));
        optional(gg.routerBias(l), hf.routerBias(l), c.experts());
        if (w.has(hf.selectionBias(l))) add(gg.selectionBias(l), w.require(hf.selectionBias(l), c.experts()));
        if (c.architecture() == Architecture.GPT_OSS) GptOssToGguf.experts(c, w, hf, gg, q, l);
        else experts(l);
        int sf = c.sharedExpertFfn();
        if (sf > 0) {
            add(gg.sharedExpert(l, Projection.GATE), w.require(hf.sharedExpert(l, Projection.GATE), sf, d));
            add(gg.sharedExpert(l, Projection.UP), w.require(hf.sharedExpert(l, Projection.UP), sf, d));
            add(gg.sharedExpert(l, Projection.DOWN), w.require(hf.sharedExpert(l, Projection.DOWN), d, sf));
            if (c.sharedExpertGated()) {
                add(gg.sharedExpertGate(l), w.require(hf.sharedExpertGate(l), 1, d)); // [1, hidden], as llama.cpp's converter keeps it
            }
        }
    }

    /**
     * kv_b_proj {@code [heads · (nope + v), rank]} as today's llama.cpp converter writes it (DeepseekV2Model in
     * {@code convert_hf_to_gguf.py}): {@code attn_k_b [heads, rank, nope]}, each head's key rows transposed, and
     * {@code attn_v_b [heads, v, rank]}, its value rows.
     */
    private void latentProjections(int l, Tensor kvB) {
        ModelConfig.Mla m = c.attention().mla();
        int h = c.heads(), nope = m.nopeDim(), vDim = m.vDim(), rank = m.kvLoraRank(), per = nope + vDim;
        Rows src = rows(kvB);
        q.add(gg.kB(l), new long[] {h, rank, nope}, (row, count, dst, off) -> {
            float[] block = new float[nope * rank];   // one head's key rows [nope, rank]
            int loaded = -1;
            for (int i = 0; i < count; i++) {
                long r = row + i;
                int head = (int) (r / rank), j = (int) (r % rank);
                if (head != loaded) {
                    src.read((long) head * per, nope, block, 0);
                    loaded = head;
                }
                for (int k = 0; k < nope; k++) dst[off + i * nope + k] = block[k * rank + j];
            }
        });
        q.add(gg.vB(l), new long[] {h, vDim, rank}, GgufQuantizer.mapped(src, rank, r -> r / vDim * per + nope + r % vDim));
    }

    /** Merged [experts, out, in] tensors from per-expert matrices or from transformers' fused gate_up_proj. */
    private void experts(int l) {
        int n = c.experts(), d = c.hidden(), f = c.expertFfn();
        String fused = hf.fusedGateUp(l);
        String fusedName = w.has(fused) ? fused : w.has(fused + ".weight") ? fused + ".weight" : null;
        if (fusedName != null) {
            Rows gu = rows(w.require(fusedName, n, 2L * f, d));
            q.add(gg.mergedExperts(l, Projection.GATE), new long[] {n, f, d},
                    GgufQuantizer.mapped(gu, d, r -> r / f * 2 * f + r % f));
            q.add(gg.mergedExperts(l, Projection.UP), new long[] {n, f, d},
                    GgufQuantizer.mapped(gu, d, r -> r / f * 2 * f + f + r % f));
            String down = hf.mergedExperts(l, Projection.DOWN);
            add(gg.mergedExperts(l, Projection.DOWN), w.require(w.has(down) ? down : down + ".weight", n, d, f));
            return;
        }
        for (Projection p : Projection.values()) {
            long rows = p == Projection.DOWN ? d : f, cols = p == Projection.DOWN ? f : d;
            List<Rows> parts = new ArrayList<>(n);
            for (int e = 0; e < n; e++) parts.add(rows(w.require(hf.expert(l, e, p), rows, cols)));
            q.add(gg.mergedExperts(l, p), new long[] {n, rows, cols}, GgufQuantizer.concat(parts, rows, cols));
        }
    }

    private void optional(String ggName, String hfName, int n) {
        if (w.has(hfName)) add(ggName, w.require(hfName, n));
    }

    private void add(String ggName, Tensor t) {
        q.add(ggName, t.shape(), rows(t));
    }

    private Rows rows(Tensor t) {
        return GgufQuantizer.rowsOf(t, w.store().source());
    }

    /** Each head's rows reordered from rotate-half pairs (i, i + half) to adjacent pairs (2i, 2i + 1). */
    private Rows permuted(Tensor t) {
        int hd = c.headDim(), half = hd / 2;
        return GgufQuantizer.mapped(rows(t), t.dim(-1), r -> {
            long h = r / hd, within = r % hd;
            return h * hd + (within % 2) * half + within / 2;
        });
    }
}
