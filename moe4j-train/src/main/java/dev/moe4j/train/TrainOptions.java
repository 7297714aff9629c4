package dev.moe4j.train;

/**
 * Optimisation settings of a run.
 *
 * @param minLrRatio      the cosine schedule decays to {@code lr · minLrRatio}
 * @param balanceCoef     Switch load-balancing loss coefficient (0.01)
 * @param zCoef           router z-loss coefficient (1e-3)
 * @param checkpointEvery write a checkpoint every N steps (0: only at the end); needs an output folder
 * @param evalEvery       validation loss every N steps (0: only at the end)
 */
public record TrainOptions(int steps, int batch, double lr, double minLrRatio, int warmup, double weightDecay, double clip,
                           double balanceCoef, double zCoef, long seed, int checkpointEvery, int evalEvery, int evalBatches) {

    public TrainOptions {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        if (warmup < 0 || clip < 0 || balanceCoef < 0 || zCoef < 0 || checkpointEvery < 0 || evalEvery < 0 || evalBatches < 1) {
            throw new IllegalArgumentException("warm-up, clip, loss coefficients and intervals must be >= 0");
        }
    }

    public static TrainOptions defaults(int steps) {
        return new TrainOptions(steps, 16, 3e-3, 0.1, Math.max(1, steps / 20), 0.01, 1.0, 0.01, 1e-3, 1234, 0, 0, 4);
    }

    public TrainOptions withSteps(int s) {
        return new TrainOptions(s, batch, lr, minLrRatio, warmup, weightDecay, clip, balanceCoef, zCoef, seed, checkpointEvery, evalEvery, evalBatches);
    }

    public TrainOptions withBalance(double coef) {
        return new TrainOptions(steps, batch, lr, minLrRatio, warmup, weightDecay, clip, coef, zCoef, seed, checkpointEvery, evalEvery, evalBatches);
    }

    public TrainOptions withCheckpointEvery(int n) {
        return new TrainOptions(steps, batch, lr, minLrRatio, warmup, weightDecay, clip, balanceCoef, zCoef, seed, n, evalEvery, evalBatches);
    }

    public TrainOptions withEvalEvery(int n) {
        return new TrainOptions(steps, batch, lr, minLrRatio, warmup, weightDecay, clip, balanceCoef, zCoef, seed, checkpointEvery, n, evalBatches);
    }

    /** Linear warm-up to {@code lr}, then cosine decay to {@code lr · minLrRatio} at the last step. */
    public double learningRate(int step) {
        if (step < warmup) return lr * (step + 1) / warmup;
        double progress = steps <= warmup + 1 ? 1 : (double) (step - warmup) / (steps - warmup - 1);
        double min = lr * minLrRatio;
        return min + 0.5 * (lr - min) * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    }
}
