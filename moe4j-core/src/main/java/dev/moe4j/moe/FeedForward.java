package dev.moe4j.moe;

/** The feed-forward half of a transformer block: an {@link MoeLayer} or a dense MLP. */
public interface FeedForward {
    /**
     * {@code out[rows, dim] = FFN(x[rows, dim])}, overwriting {@code out}'s first {@code rows × dim} values.
     *
     * @return the routing plan this call used (refilled by the layer's next call on the same thread: read it, do not
     *         keep it), or null for a dense layer
     */
    RoutingPlan forward(float[] x, int rows, float[] out);
}
