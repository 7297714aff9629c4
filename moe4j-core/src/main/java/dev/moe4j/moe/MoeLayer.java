package dev.moe4j.moe;

import dev.moe4j.kernel.Scratch;

/**
 * The MoE feed-forward: route, dispatch each expert's rows, run each chosen expert once over its bin,
 * combine the weighted rows back, add shared experts.
 */
public final class MoeLayer {
    private final Router router;
    private final ExpertBank experts;
    private final SharedExpert shared; // may be null
    // Each thread refills its own plan, so decoding allocates none and concurrent forwards (over separate caches) stay safe.
    private final ThreadLocal<RoutingPlan> plans = ThreadLocal.withInitial(RoutingPlan::new);
    private volatile RoutingPlan lastPlan;

    public MoeLayer(Router router, ExpertBank experts, SharedExpert shared) {
        if (router.experts() != experts.experts()) {
            throw new IllegalArgumentException("router scores " + router.experts() + " experts but the bank holds " + experts.experts());
        }
        this.router = router;
        this.experts = experts;
        this.shared = shared;
    }

    /**
     * out[tokens, dim] = MoE(x[tokens, dim]); returns the plan used, which this layer refills on the calling
     * thread's next forward call.
     */
    public RoutingPlan forward(float[] x, int tokens, float[] out) {
        int dim = experts.inputDim();
        RoutingPlan plan = plans.get();
        router.route(x, tokens, plan);
        if (tokens == 1 && experts instanceof SwiGluExperts s) {
            // Decode: only the k chosen experts, all in two parallel dispatches.
            s.forwardChosen(plan, x, out);
            if (shared != null) shared.addTo(x, tokens, out);
            lastPlan = plan;
            return plan;
        }
        if (experts instanceof SwiGluExperts s) {
            s.forwardBins(plan, x, tokens, out);   // prefill: all experts in two dispatches
            if (shared != null) shared.addTo(x, tokens, out);
            lastPlan = plan;
            return plan;
        }
        java.util.Arrays.fill(out, 0, tokens * dim, 0f);
        for (int e = 0; e < plan.experts(); e++) {
            int n = plan.load(e);
            if (n == 0) continue;
            // The expert's bin: it runs once over all its tokens, a GEMM whose weight rows are read once per tile.
            float[] rows = Scratch.get(Scratch.GATHER, n * dim);
            for (int i = 0; i < n; i++) System.arraycopy(x, plan.binToken(e, i) * dim, rows, i * dim, dim);  // dispatch
            float[] y = Scratch.get(Scratch.DOWN, n * dim);
            experts.forward(e, rows, n, y);
            for (int i = 0; i < n; i++) {                                                               // combine
                int t = plan.binToken(e, i);
                float w = plan.binWeight(e, i);
                for (int j = 0; j < dim; j++) out[t * dim + j] += w * y[i * dim + j];
            }
        }
        if (shared != null) shared.addTo(x, tokens, out);
        lastPlan = plan;
        return plan;
    }

    public Router router() { return router; }
    public ExpertBank experts() { return experts; }
    public SharedExpert shared() { return shared; }

    /** The plan of the most recent forward call (for statistics; refilled by the next call), or null. */
    public RoutingPlan lastPlan() { return lastPlan; }
}
