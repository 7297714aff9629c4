package dev.moe4j.model;

/** Hugging Face {@code transformers} state-dict names for an architecture. */
final class HfTensorNames implements TensorNames {
    private final Architecture arch;

    HfTensorNames(Architecture arch) {
        this.arch = arch;
    }

    private static String layer(int l, String s) { return "model.layers." + l + "." + s; }

    private String moe(int l, String s) { return layer(l, arch.hfMoeBlock + "." + s); }

    private String proj(Projection p) {
        return switch (p) { case GATE -> arch.hfGate; case UP -> arch.hfUp; case DOWN -> arch.hfDown; };
    }

    private static String mlpProj(Projection p) {
        return switch (p) { case GATE -> "gate_proj"; case UP -> "up_proj"; case DOWN -> "down_proj"; };
    }

    @Override public String embedding() { return "model.embed_tokens.weight"; }
    @Override public String outputNorm() { return "model.norm.weight"; }
    @Override public String output() { return "lm_head.weight"; }
    @Override public String attnNorm(int l) { return layer(l, "input_layernorm.weight"); }
    @Override public String ffnNorm(int l) { return layer(l, "post_attention_layernorm.weight"); }
    @Override public String q(int l) { return layer(l, "self_attn.q_proj.weight"); }
    @Override public String k(int l) { return layer(l, "self_attn.k_proj.weight"); }
    @Override public String v(int l) { return layer(l, "self_attn.v_proj.weight"); }
    @Override public String o(int l) { return layer(l, "self_attn.o_proj.weight"); }
    @Override public String qBias(int l) { return layer(l, "self_attn.q_proj.bias"); }
    @Override public String kBias(int l) { return layer(l, "self_attn.k_proj.bias"); }
    @Override public String vBias(int l) { return layer(l, "self_attn.v_proj.bias"); }
    @Override public String qNorm(int l) { return layer(l, "self_attn.q_norm.weight"); }
    @Override public String kNorm(int l) { return layer(l, "self_attn.k_norm.weight"); }
    @Override public String router(int l) { return moe(l, routerModule() + ".weight"); }

    private String routerModule() { return arch.hfRouterModule(); }

    /** transformers ≥ 5 keeps experts fused in memory as {@code experts.gate_up_proj} / {@code experts.down_proj}. */
    @Override public String mergedExperts(int l, Projection p) {
        return p == Projection.DOWN ? moe(l, "experts.down_proj") : null;
    }

    @Override public String expert(int l, int e, Projection p) { return moe(l, "experts." + e + "." + proj(p) + ".weight"); }
    @Override public String fusedGateUp(int l) { return moe(l, "experts.gate_up_proj"); }
    @Override public String sharedExpert(int l, Projection p) {
        return moe(l, arch.hfSharedExpertModule() + "." + mlpProj(p) + ".weight");
    }
    @Override public String sharedExpertGate(int l) { return moe(l, "shared_expert_gate.weight"); }
    @Override public String denseMlp(int l, Projection p) { return layer(l, "mlp." + mlpProj(p) + ".weight"); }
    @Override public String routerBias(int l) { return moe(l, routerModule() + ".bias"); }
    @Override public String selectionBias(int l) { return moe(l, "gate.e_score_correction_bias"); }
    @Override public String oBias(int l) { return layer(l, "self_attn.o_proj.bias"); }
    @Override public String sinks(int l) { return layer(l, "self_attn.sinks"); }
    @Override public String qA(int l) { return layer(l, "self_attn.q_a_proj.weight"); }
    @Override public String qANorm(int l) { return layer(l, "self_attn.q_a_layernorm.weight"); }
    @Override public String qB(int l) { return layer(l, "self_attn.q_b_proj.weight"); }
    @Override public String kvA(int l) { return layer(l, "self_attn.kv_a_proj_with_mqa.weight"); }
    @Override public String kvANorm(int l) { return layer(l, "self_attn.kv_a_layernorm.weight"); }
    @Override public String kvB(int l) { return layer(l, "self_attn.kv_b_proj.weight"); }

    /** Older transformers saved the rotary embedding's inverse frequencies, which are computed, not loaded. */
    @Override public boolean ignorable(String name) { return name.endsWith(".rotary_emb.inv_freq"); }
}
