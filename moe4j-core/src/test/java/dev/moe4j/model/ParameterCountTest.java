package dev.moe4j.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ParameterCountTest {
    @Test
    void mixtral8x7bPublishedConfigGivesPublishedCounts() {
        ModelConfig c = new ModelConfig(Architecture.MIXTRAL, 32000, 4096, 32, 32768, 1e-5f, false,
                new ModelConfig.AttentionSpec(32, 8, 128, 1e6, RopeStyle.HALF), new ModelConfig.MoeSpec(8, 2, 14336, true, 0, false),
                new ModelConfig.DenseSpec(14336, null));
        ParameterCount p = ParameterCount.of(c);
        assertEquals(46.7e9, p.total(), 0.05e9, "total parameters");
        assertEquals(12.9e9, p.active(), 0.05e9, "active parameters per token");
    }

    @Test
    void sharedExpertAndDenseLayersAreCountedAsActive() {
        boolean[] dense = {true, false};
        ModelConfig c = new ModelConfig(Architecture.QWEN2_MOE, 100, 8, 2, 64, 1e-6f, false,
                new ModelConfig.AttentionSpec(2, 2, 4, 1e4, RopeStyle.HALF), new ModelConfig.MoeSpec(4, 1, 6, false, 10, true),
                new ModelConfig.DenseSpec(12, dense));
        ParameterCount p = ParameterCount.of(c);
        long perExpert = 3L * 8 * 6;
        assertEquals(3 * perExpert, p.total() - p.active(), "total and active differ by exactly the 3 unused experts");
    }

    @Test
    void totalEqualsTheElementsStoredInEveryReferenceCheckpoint() throws Exception {
        java.nio.file.Path refs = dev.moe4j.RefsLocator.refs();
        org.junit.jupiter.api.Assumptions.assumeTrue(refs != null, "skipped: ../shared/refs is absent");
        try (var dirs = java.nio.file.Files.list(refs)) {
            for (java.nio.file.Path dir : dirs.filter(d -> java.nio.file.Files.exists(d.resolve("config.json"))).toList()) {
                try (Model m = Model.load(dir)) {
                    long stored = 0;
                    for (String name : m.store().names()) stored += m.store().find(name).orElseThrow().elementCount();
                    assertEquals(stored, ParameterCount.of(m.config()).total(), dir.getFileName().toString());
                }
            }
        }
    }
}
