package dev.moe4j.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class GgmlTypeNamesTest {
    @Test
    void everyFileTypeMoe4jReadsHasItsOwnNameUnderItsId() {
        for (DType t : DType.values())
            if (t.ggmlId >= 0) assertEquals(t.name(), GgmlTypeNames.name(t.ggmlId), "id " + t.ggmlId);
    }

    @Test
    void unsupportedTypesOfBothForksAreNamed() {
        assertEquals("IQ4_KS (id 144)", GgmlTypeNames.describe(144));   // ik_llama.cpp
        assertEquals("IQ2_XXS (id 16)", GgmlTypeNames.describe(16));
        assertEquals("MXFP4 (id 39)", GgmlTypeNames.describe(39));
        assertEquals("Q8_K_R8 (id 399)", GgmlTypeNames.describe(399));
        assertEquals("Q2_0 (id 42)", GgmlTypeNames.describe(42));
    }

    @Test
    void idsNoForkDefinesAreSaidToBeUnknown() {
        for (long id : new long[]{43, 96, 100, 159, 400, 4000, 0xFFFFFFFFL, -1}) assertNull(GgmlTypeNames.name(id), "id " + id);
        assertEquals("unknown type (id 4294967295)", GgmlTypeNames.describe(0xFFFFFFFFL));
    }
}
