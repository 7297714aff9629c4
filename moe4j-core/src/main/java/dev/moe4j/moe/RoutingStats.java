package dev.moe4j.moe;

/**
 * What a routing decision cost and how balanced it was, carried on the {@link RoutingPlan} as a value
 * (never a global): per-expert loads, entries dropped for capacity, and the raw (unscaled) auxiliary losses.
 *
 * @param loads          entries kept per expert
 * @param dropped        (token, slot) entries dropped because an expert was full
 * @param balanceLoss    Switch load-balancing loss {@code N · Σ f_i · P_i} (1.0 when perfectly uniform), before its coefficient
 * @param zLoss          router z-loss {@code mean (logsumexp logits)²}, before its coefficient
 */
public record RoutingStats(int[] loads, int dropped, double balanceLoss, double zLoss) {

    /** Busiest expert's load over the mean load (1.0 is perfect balance). */
    public double maxOverMean() {
        long sum = 0;
        int max = 0;
        for (int l : loads) { sum += l; max = Math.max(max, l); }
        return sum == 0 ? 1.0 : max / ((double) sum / loads.length);
    }
}
