package dev.moe4j.moe;

/**
 * The MoE feed-forward: the router plans which experts each token goes to, the expert bank runs each chosen
 * expert once over its bin and combines the weighted rows, and shared experts (if any) are added.
 */
public final class MoeLayer implements FeedForward {
    private final Router router;
    private final ExpertBank experts;
    private final SharedExpert shared; // may be null
    // Each thread refills its own plan, so decoding allocates none and concurrent forwards (over separate caches) stay safe.
    private final ThreadLocal<RoutingPlan> plans = ThreadLocal.withInitial(RoutingPlan::new);

    public MoeLayer(Router router, ExpertBank experts, SharedExpert shared) {
        if (router.experts() != experts.experts()) {
            throw new IllegalArgumentException("router scores " + router.experts() + " experts but the bank holds " + experts.experts());
        }
        this.router = router;
        this.experts = experts;
        this.shared = shared;
    }

    /** out[tokens, dim] = MoE(x[tokens, dim]); returns the plan used, which this layer refills on the calling thread's next call. */
    @Override
    public RoutingPlan forward(float[] x, int tokens, float[] out) {
        RoutingPlan plan = plans.get();
        router.route(x, tokens, plan);
        experts.forward(plan, x, out);
        if (shared != null) shared.addTo(x, tokens, out);
        return plan;
    }

    public Router router() { return router; }
    public ExpertBank experts() { return experts; }
    public SharedExpert shared() { return shared; }
}
