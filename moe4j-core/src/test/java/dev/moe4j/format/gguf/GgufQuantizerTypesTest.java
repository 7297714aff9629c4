package dev.moe4j.format.gguf;

import dev.moe4j.kernel.TypeKernels;
import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Which types a GGUF can be written in, and the file type it records, come from the types' kernels. */
class GgufQuantizerTypesTest {
    private static final GgufQuantizer.Listener QUIET = new GgufQuantizer.Listener() {};

    @Test
    void refusesTypesThatCannotBeEncodedListingThoseThatCan() {
        for (DType t : DType.values()) {
            if (TypeKernels.of(t).canEncode()) continue;
            var e = assertThrows(IllegalArgumentException.class, () -> new GgufQuantizer(t, QUIET), t.name());
            assertTrue(e.getMessage().startsWith("cannot write " + t + " ("), e.getMessage());
            for (DType ok : TypeKernels.encodable())
                assertTrue(e.getMessage().contains(ok.name().toLowerCase(java.util.Locale.ROOT)), e.getMessage());
        }
    }

    @Test
    void recordsTheTypesFileType() throws Exception {
        Path dir = Files.createTempDirectory("moe4j-ftype");
        try {
            for (DType t : TypeKernels.encodable()) {
                GgufQuantizer q = new GgufQuantizer(t, QUIET);
                GgufQuantizer.Rows sine = (row, count, dst, off) -> {
                    for (int i = 0; i < count * 256; i++) dst[off + i] = (float) Math.sin(row * 256 + i);
                };
                q.add("blk.0.ffn_down.weight", new long[]{2, 256}, sine);
                q.add("blk.0.ffn_down_exps.weight", new long[]{2, 2, 256}, sine);
                Path out = dir.resolve(t + ".gguf");
                q.write(out);
                try (GgufFile f = GgufFile.open(out)) {
                    assertEquals((long) TypeKernels.of(t).ggufFileType(), ((Number) f.metadata().get("general.file_type")).longValue(), t.name());
                    // MXFP4 files are llama.cpp's MXFP4_MOE: merged expert tensors MXFP4, other weights Q8_0.
                    assertEquals(t == DType.MXFP4 ? DType.Q8_0 : t, f.tensor("blk.0.ffn_down.weight").dtype());
                    assertEquals(t, f.tensor("blk.0.ffn_down_exps.weight").dtype());
                }
                Files.delete(out);
            }
        } finally {
            Files.deleteIfExists(dir);
        }
    }
}
