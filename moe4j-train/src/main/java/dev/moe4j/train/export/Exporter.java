package dev.moe4j.train.export;

import dev.moe4j.model.TensorNames;
import dev.moe4j.model.TensorNames.Projection;

import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.format.safetensors.SafetensorsWriter;
import dev.moe4j.model.HfToGguf;
import dev.moe4j.tensor.DType;
import dev.moe4j.train.ModelSpec;
import dev.moe4j.train.MoeModel;
import dev.moe4j.train.OutputFolder;
import dev.moe4j.train.Params;
import dev.moe4j.train.data.ByteBpe;
import dev.moe4j.train.data.JsonOut;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a trained model in float32 as a Hugging Face folder (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json) or as a GGUF file, with the tensor names and metadata transformers and llama.cpp use.
 */
public final class Exporter {
    /** The files {@link #writeHuggingFace} writes into its folder. */
    public static final List<String> HF_FILES = List.of("model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json");

    private final MoeModel m;
    private final ModelSpec s;
    private final Params p;
    private final ByteBpe vocab;
    private final Layout layout;

    public Exporter(MoeModel model, ByteBpe vocab) {
        this.m = model;
        this.s = model.spec();
        this.p = model.params();
        this.vocab = vocab;
        this.layout = Layout.of(s);
        if (vocab.vocabSize() > s.vocab()) throw new IllegalArgumentException("tokenizer has more tokens than the model");
    }

    public Layout layout() { return layout; }

    // ---- tensors as float32, shapes outermost first ----

    private float[] f(int offset, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) m.w[offset + i];
        return out;
    }

    private float[] scaled(int offset, int n, double k) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) (k * m.w[offset + i]);
        return out;
    }

    private float[] router(Params.Layer pl) {
        return pl.router >= 0 ? f(pl.router, s.experts() * s.dim()) : new float[s.dim()];  // dense: one expert, any logit
    }

    private float[] sharedDown(Params.Layer pl) {
        int fs = Layout.sharedWidth(s);
        return pl.shDown >= 0 ? scaled(pl.shDown, s.dim() * fs, 2.0) : new float[s.dim() * fs];
    }

    private float[] sharedPart(int offset) {
        return offset >= 0 ? f(offset, s.sharedFfn() * s.dim()) : new float[s.dim() * Layout.sharedWidth(s)];
    }

    // ---- Hugging Face folder ----

    public void writeHuggingFace(Path dir) {
        int d = s.dim(), f = s.expertFfn(), fs = Layout.sharedWidth(s);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        TensorNames n = layout.architecture().hfNames();
        w.add(n.embedding(), DType.F32, new long[] {s.vocab(), d}, f(p.embedding, s.vocab() * d));
        for (int l = 0; l < s.layers(); l++) {
            Params.Layer pl = p.layers[l];
            w.add(n.attnNorm(l), DType.F32, new long[] {d}, f(pl.attnNorm, d));
            w.add(n.ffnNorm(l), DType.F32, new long[] {d}, f(pl.ffnNorm, d));
            String[] proj = {n.q(l), n.k(l), n.v(l), n.o(l)};
            int[] offs = {pl.wq, pl.wk, pl.wv, pl.wo};
            for (int i = 0; i < 4; i++) w.add(proj[i], DType.F32, new long[] {d, d}, f(offs[i], d * d));
            if (layout == Layout.QWEN2_MOE) {
                for (String bias : new String[] {n.qBias(l), n.kBias(l), n.vBias(l)}) w.add(bias, DType.F32, new long[] {d}, new float[d]);
            }
            w.add(n.router(l), DType.F32, new long[] {s.experts(), d}, router(pl));
            for (int e = 0; e < s.experts(); e++) {
                w.add(n.expert(l, e, Projection.GATE), DType.F32, new long[] {f, d}, f(pl.gate + e * f * d, f * d));
                w.add(n.expert(l, e, Projection.UP), DType.F32, new long[] {f, d}, f(pl.up + e * f * d, f * d));
                w.add(n.expert(l, e, Projection.DOWN), DType.F32, new long[] {d, f}, f(pl.down + e * d * f, d * f));
            }
            if (layout == Layout.QWEN2_MOE) {
                w.add(n.sharedExpert(l, Projection.GATE), DType.F32, new long[] {fs, d}, sharedPart(pl.shGate));
                w.add(n.sharedExpert(l, Projection.UP), DType.F32, new long[] {fs, d}, sharedPart(pl.shUp));
                w.add(n.sharedExpert(l, Projection.DOWN), DType.F32, new long[] {d, fs}, sharedDown(pl));
                w.add(n.sharedExpertGate(l), DType.F32, new long[] {1, d}, new float[d]);
            }
        }
        w.add(n.outputNorm(), DType.F32, new long[] {d}, f(p.outNorm, d));
        w.add(n.output(), DType.F32, new long[] {s.vocab(), d}, f(p.head, s.vocab() * d));
        try {
            Files.createDirectories(dir);
            w.write(dir.resolve("model.safetensors"));
            Files.writeString(dir.resolve("config.json"), configJson());
            Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\":" + vocab.eosId() + "}\n");
            Files.writeString(dir.resolve("tokenizer.json"), vocab.tokenizerJson());
            Files.writeString(dir.resolve("tokenizer_config.json"), vocab.tokenizerConfigJson(s.seqLen()));
        } catch (IOException e) {
            throw new Moe4jException(dir + ": cannot write the export: " + OutputFolder.reason(e), e);
        } catch (UncheckedIOException e) {
            throw new Moe4jException(dir + ": cannot write the export: " + OutputFolder.reason(e.getCause()), e);
        }
    }

    String configJson() {
        StringBuilder j = new StringBuilder("{\n");
        boolean mix = layout == Layout.MIXTRAL;
        kv(j, "architectures", "[" + JsonOut.str(mix ? "MixtralForCausalLM" : "Qwen2MoeForCausalLM") + "]");
        kv(j, "model_type", JsonOut.str(layout.architecture().hfModelType));
        kv(j, "vocab_size", s.vocab());
        kv(j, "hidden_size", s.dim());
        kv(j, "intermediate_size", s.expertFfn());
        kv(j, "num_hidden_layers", s.layers());
        kv(j, "num_attention_heads", s.heads());
        kv(j, "num_key_value_heads", s.heads());
        kv(j, "head_dim", s.headDim());
        kv(j, "max_position_embeddings", s.seqLen());
        kv(j, "rms_norm_eps", JsonOut.num(s.normEps()));
        kv(j, "rope_theta", JsonOut.num(s.ropeTheta()));
        kv(j, "hidden_act", "\"silu\"");
        kv(j, "num_experts_per_tok", s.topK());
        if (mix) {
            kv(j, "num_local_experts", s.experts());
            kv(j, "sliding_window", "null");
        } else {
            kv(j, "num_experts", s.experts());
            kv(j, "moe_intermediate_size", s.expertFfn());
            kv(j, "shared_expert_intermediate_size", Layout.sharedWidth(s));
            kv(j, "norm_topk_prob", Layout.renormalize(s));
            kv(j, "decoder_sparse_step", 1);
            kv(j, "mlp_only_layers", "[]");
            kv(j, "use_sliding_window", false);
        }
        kv(j, "router_aux_loss_coef", 0.01);
        kv(j, "output_router_logits", false);
        kv(j, "attention_dropout", 0.0);
        kv(j, "tie_word_embeddings", false);
        kv(j, "bos_token_id", "null");
        kv(j, "eos_token_id", vocab.eosId());
        kv(j, "torch_dtype", "\"float32\"");
        j.append("  \"transformers_version\": \"4.46.0\"\n}\n");
        return j.toString();
    }

    private static void kv(StringBuilder j, String k, Object v) {
        j.append("  ").append(JsonOut.str(k)).append(": ").append(v).append(",\n");
    }

    // ---- GGUF ----

    /**
     * The model's name in exports (GGUF {@code general.name}): its shape, so the same model always exports the same
     * bytes wherever it is written.
     */
    public String modelName() {
        return s.dense() ? "moe4j-dense-" + s.expertFfn() : "moe4j-" + s.experts() + "x" + s.expertFfn() + "-top" + s.topK();
    }

    /** The scratch folder {@link #writeGguf} uses beside {@code file} (deleted when it returns). */
    public static Path scratchFolder(Path file) {
        return file.resolveSibling(file.getFileName() + ".export-tmp");
    }

    /**
     * Writes the model as an F32 GGUF in llama.cpp's layout: the Hugging Face export run through moe4j's
     * converter ({@link HfToGguf}), so there is one writer of GGUF model files and its tests cover this too. The
     * Hugging Face files go to a scratch folder beside {@code file}, named {@link #modelName()} inside it (the
     * converter takes {@code general.name} from the folder's name), and are deleted whatever happens.
     *
     * @throws Moe4jException naming the file when it cannot be written
     */
    public void writeGguf(Path file) {
        Path scratch = scratchFolder(file.toAbsolutePath());
        try {
            OutputFolder.deleteTree(scratch);
            Path hf = scratch.resolve(modelName());
            writeHuggingFace(hf);
            HfToGguf.quantize(hf, file, DType.F32, new GgufQuantizer.Listener() {});
        } catch (IOException e) {
            throw new Moe4jException(file + ": cannot write: " + OutputFolder.reason(e), e);
        } catch (UncheckedIOException e) {
            throw new Moe4jException(file + ": cannot write: " + OutputFolder.reason(e.getCause()), e);
        } finally {
            try {
                OutputFolder.deleteTree(scratch);
            } catch (IOException ignored) {
                // the export's own outcome is what to report; the next export removes the scratch folder first
            }
        }
    }
}
