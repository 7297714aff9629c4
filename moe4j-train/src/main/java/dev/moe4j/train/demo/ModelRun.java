package dev.moe4j.train.demo;

import dev.moe4j.train.ModelSpec;
import dev.moe4j.train.Trainer;

import java.util.List;

/**
 * What one model of the demo measured.
 *
 * @param loads per step, {@code [layer][expert]} loads of the training batch
 */
public record ModelRun(String name, ModelSpec spec, long totalParams, long activeParams, long flopsPerToken,
                       double tokensPerSecond, double msPerStep, double finalValLoss, List<Trainer.StepInfo> history,
                       List<int[][]> loads, Trainer.RoutingReport routing) {}
