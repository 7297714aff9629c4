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

    /** Checks every field; names it as the {@code train} option and the checkpoint do. */
    public TrainOptions {
        Check.atLeast("steps", steps, 1);
        Check.atLeast("batch", batch, 1);
        Check.positive("lr", lr);
        Check.between("min-lr-ratio", minLrRatio, 0, 1);
        Check.atLeast("warmup", warmup, 0);
        Check.atLeast("weight-decay", weightDecay, 0);
        Check.atLeast("clip", clip, 0);
        Check.atLeast("balance-coef", balanceCoef, 0);
        Check.atLeast("z-coef", zCoef, 0);
        Check.atLeast("checkpoint-every", checkpointEvery, 0);
        Check.atLeast("eval-every", evalEvery, 0);
        Check.atLeast("eval-batches", evalBatches, 1);
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
