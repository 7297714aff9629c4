package dev.moe4j.moe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The routing strategies added for training and inference: sigmoid + bias, capacity limits, expert choice. */
class RoutingStrategiesTest {
    // 4 tokens x 3 experts
    static final float[] LOGITS = {2f, 1f, 0f, 1.5f, 0.5f, -1f, 0f, 3f, 1f, 2.5f, 0f, 0.2f};

    @Test
    void sigmoidBiasSelectsWithBiasButWeighsWithoutIt() {
        float[] bias = {0f, 0f, 5f};   // forces expert 2 into every token's top-2
        RoutingPlan p = new GroupLimitedSigmoidTopK(2, bias, 1, 1, true, 1f).plan(LOGITS, 4, 3);
        for (int t = 0; t < 4; t++) {
            assertEquals(2, p.expert(t, 0));
            double s0 = sig(LOGITS[t * 3 + 2]), s1 = sig(LOGITS[t * 3 + p.expert(t, 1)]);
            assertEquals(s0 / (s0 + s1), p.weight(t, 0), 1e-6);
            assertEquals(1.0, p.weight(t, 0) + p.weight(t, 1), 1e-6);
        }
    }

    @Test
    void capacityDropsLaterEntriesAndLeavesThemOutOfTheBins() {
        RoutingPlan p = new CapacityLimit(new SoftmaxTopK(1, true), 0.75).plan(LOGITS, 4, 3);   // capacity ceil(1*.75*4/3) = 1
        // first choices: t0→0, t1→0, t2→1, t3→0; only t0 and t2 fit
        assertEquals(0, p.expert(0, 0));
        assertEquals(-1, p.expert(1, 0));
        assertEquals(1, p.expert(2, 0));
        assertEquals(-1, p.expert(3, 0));
        assertEquals(1, p.load(0));
        assertEquals(2, p.stats().dropped());
        assertEquals(0, p.binEntry(0, 0));
    }

    @Test
    void expertChoiceGivesEveryExpertTheSameNumberOfTokens() {
        RoutingPlan p = new ExpertChoice(1.5).plan(LOGITS, 4, 3);   // C = ceil(4*1.5/3) = 2
        for (int e = 0; e < 3; e++) assertEquals(2, p.load(e));
        assertTrue(p.stats().maxOverMean() == 1.0);
    }

    @Test
    void oldConstructorStillRejectsEmptySlots() {
        assertThrows(IllegalArgumentException.class, () -> new RoutingPlan(1, 1, 2, new int[] {-1}, new float[] {1f}));
    }

    static double sig(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
