package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class WarmupTest {
    @Test
    void warmsEveryWeightTypeAndIsCheapTheSecondTime() {
        assertDoesNotThrow(() -> Warmup.run(EnumSet.allOf(DType.class)));   // integer types are skipped
        // Already done: a second call returns at once (generous bound, no timing claim beyond "not redone").
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(5), () -> Warmup.run(EnumSet.allOf(DType.class)));
    }
}
