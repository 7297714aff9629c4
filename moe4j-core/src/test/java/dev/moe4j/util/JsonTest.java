package dev.moe4j.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
    @TempDir
    Path dir;

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String brackets = "[".repeat(100_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(brackets));
        assertTrue(e.getMessage().contains("nesting deeper than " + Json.MAX_DEPTH), e.getMessage());
        String objects = "{\"a\":".repeat(Json.MAX_DEPTH + 1) + "1" + "}".repeat(Json.MAX_DEPTH + 1);
        assertThrows(IllegalArgumentException.class, () -> Json.parse(objects));
        // The limit itself is fine, and depth is counted, not position: many siblings at depth 1 are not "deep".
        assertEquals(1L, unwrap(Json.parse("[".repeat(Json.MAX_DEPTH) + "1" + "]".repeat(Json.MAX_DEPTH)), Json.MAX_DEPTH));
        assertEquals(10_000, ((List<?>) Json.parse("[" + "[],".repeat(9_999) + "[]]")).size());
    }

    private static Object unwrap(Object v, int levels) {
        for (int i = 0; i < levels; i++) v = ((List<?>) v).getFirst();
        return v;
    }

    @Test
    void aRepeatedKeyIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.parse("{\"rms_norm_eps\": 1e-5, \"x\": {\"a\": 1, \"a\": 2}}"));
        assertTrue(e.getMessage().contains("duplicate key \"a\""), e.getMessage());
        // The same key in different objects is fine.
        assertEquals(Map.of("a", Map.of("a", 1L)), Json.parse("{\"a\": {\"a\": 1}}"));
    }

    @Test
    void parseFileNamesTheFileAndBoundsItsSize() throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"a\": [1, 2");
        Moe4jException e = assertThrows(Moe4jException.class, () -> Json.parseFile(f, 1 << 20));
        assertEquals(f + ": not valid JSON: unexpected end at offset 11", e.getMessage());

        Files.writeString(f, "[".repeat(100_000));
        e = assertThrows(Moe4jException.class, () -> Json.parseFile(f, 1 << 20));
        assertTrue(e.getMessage().startsWith(f + ": not valid JSON: nesting deeper than"), e.getMessage());

        Files.writeString(f, "{\"a\": \"" + "x".repeat(2000) + "\"}");
        e = assertThrows(Moe4jException.class, () -> Json.parseFile(f, 1000));
        assertEquals(f + ": file is 2009 bytes, more than the 1000 accepted", e.getMessage());

        Files.write(f, new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'});
        e = assertThrows(Moe4jException.class, () -> Json.parseFile(f, 1000));
        assertEquals(f + ": not valid UTF-8 text", e.getMessage());

        e = assertThrows(Moe4jException.class, () -> Json.parseFile(dir.resolve("none.json"), 1000));
        assertEquals(dir.resolve("none.json") + ": no such file", e.getMessage());

        Files.writeString(f, "{\"a\": 1}");
        assertEquals(Map.of("a", 1L), Json.parseFile(f, 1000));
    }
}
