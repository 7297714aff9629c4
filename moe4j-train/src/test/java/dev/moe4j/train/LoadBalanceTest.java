package dev.moe4j.train;

import dev.moe4j.train.data.BuiltinCorpus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** On the built-in corpus, balancing keeps the busiest expert near the mean load; without it the router collapses. */
class LoadBalanceTest {
    static final BuiltinCorpus CORPUS = new BuiltinCorpus(null);

    static double imbalance(RouterSpec router, double balanceCoef) {
        ModelSpec s = new ModelSpec(257, 32, 1, 2, 8, 2, 32, 0, 32, 10000, 1e-5, router, true);
        Trainer t = Trainer.create(s, TrainOptions.defaults(150).withBalance(balanceCoef), CORPUS, "builtin", null);
        t.run(null);
        return t.routingReport().maxOverMean()[0];
    }

    @Test
    void switchBalancingLossKeepsLoadsEven() {
        double with = imbalance(RouterSpec.softmax(true), 0.01), without = imbalance(RouterSpec.softmax(true), 0);
        System.out.printf("softmax top-2: busiest/mean %.3f with the balancing loss, %.3f without%n", with, without);
        assertTrue(with <= 1.5, "with balancing loss: " + with);
        assertTrue(without > with + 0.5, "without balancing loss: " + without);
    }

    @Test
    void lossFreeBiasKeepsLoadsEven() {
        double with = imbalance(RouterSpec.sigmoidBias(0.005), 0), without = imbalance(RouterSpec.sigmoidBias(0), 0);
        System.out.printf("sigmoid top-2: busiest/mean %.3f with the loss-free bias, %.3f without%n", with, without);
        assertTrue(with <= 1.5, "with loss-free bias: " + with);
        assertTrue(without > with + 0.5, "without loss-free bias: " + without);
    }
}
