package dev.moe4j.model;

/** llama.cpp's tensor names (see its {@code llama-arch.cpp}). */
class GgufTensorNames implements TensorNames {
    private static String blk(int l, String s) { return "blk." + l + "." + s; }

    private static String proj(Projection p) {
        return switch (p) { case GATE -> "gate"; case UP -> "up"; case DOWN -> "down"; };
    }

    @Override public String embedding() { return "token_embd.weight"; }
    @Override public String outputNorm() { return "output_norm.weight"; }
    @Override public String output() { return "output.weight"; }
    @Override public String attnNorm(int l) { return blk(l, "attn_norm.weight"); }
    @Override public String ffnNorm(int l) { return blk(l, "ffn_norm.weight"); }
    @Override public String q(int l) { return blk(l, "attn_q.weight"); }
    @Override public String k(int l) { return blk(l, "attn_k.weight"); }
    @Override public String v(int l) { return blk(l, "attn_v.weight"); }
    @Override public String o(int l) { return blk(l, "attn_output.weight"); }
    @Override public String qBias(int l) { return blk(l, "attn_q.bias"); }
    @Override public String kBias(int l) { return blk(l, "attn_k.bias"); }
    @Override public String vBias(int l) { return blk(l, "attn_v.bias"); }
    @Override public String qNorm(int l) { return blk(l, "attn_q_norm.weight"); }
    @Override public String kNorm(int l) { return blk(l, "attn_k_norm.weight"); }
    @Override public String router(int l) { return blk(l, "ffn_gate_inp.weight"); }
    @Override public String mergedExperts(int l, Projection p) { return blk(l, "ffn_" + proj(p) + "_exps.weight"); }
    @Override public String expert(int l, int e, Projection p) { return blk(l, "ffn_" + proj(p) + "." + e + ".weight"); }
    @Override public String fusedGateUp(int l) { return null; }
    @Override public String sharedExpert(int l, Projection p) { return blk(l, "ffn_" + proj(p) + "_shexp.weight"); }
    @Override public String sharedExpertGate(int l) { return blk(l, "ffn_gate_inp_shexp.weight"); }
    @Override public String denseMlp(int l, Projection p) { return blk(l, "ffn_" + proj(p) + ".weight"); }
    @Override public String routerBias(int l) { return blk(l, "ffn_gate_inp.bias"); }
    @Override public String selectionBias(int l) { return blk(l, "exp_probs_b.bias"); }
    @Override public String oBias(int l) { return blk(l, "attn_output.bias"); }
    @Override public String sinks(int l) { return blk(l, "attn_sinks.weight"); }
    @Override public String qA(int l) { return blk(l, "attn_q_a.weight"); }
    @Override public String qANorm(int l) { return blk(l, "attn_q_a_norm.weight"); }
    @Override public String qB(int l) { return blk(l, "attn_q_b.weight"); }
    @Override public String kvA(int l) { return blk(l, "attn_kv_a_mqa.weight"); }
    @Override public String kvANorm(int l) { return blk(l, "attn_kv_a_norm.weight"); }
    @Override public String kvB(int l) { return blk(l, "attn_kv_b.weight"); }
    @Override public String kB(int l) { return blk(l, "attn_k_b.weight"); }
    @Override public String vB(int l) { return blk(l, "attn_v_b.weight"); }
}
