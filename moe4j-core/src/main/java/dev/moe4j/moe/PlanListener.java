package dev.moe4j.moe;

/** Sees the routing plan of every MoE layer of a forward pass, e.g. to count tokens per expert. */
@FunctionalInterface
public interface PlanListener {
    /** The plan is refilled by the layer's next call: read it here, do not keep it. */
    void onPlan(int layer, RoutingPlan plan);
}
