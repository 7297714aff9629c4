package dev.moe4j.tokenizer;

import dev.moe4j.util.Json;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Locates {@code shared/refs} by walking up from the working directory; skips tests when it is absent. */
final class RefData {
    private RefData() {}

    static Path refsDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path c = p.resolve("shared").resolve("refs");
            if (Files.isDirectory(c)) return c;
        }
        Assumptions.assumeTrue(false, "shared/refs not found above " + Path.of("").toAbsolutePath());
        return null;
    }

    static List<Path> folders() {
        try (Stream<Path> s = Files.list(refsDir())) {
            return s.filter(d -> Files.isRegularFile(d.resolve("reference.json"))
                    && Files.isRegularFile(d.resolve("tokenizer.json"))).sorted().toList();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    static Map<String, Object> json(Path file) {
        try {
            return Json.parseObject(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    static int[] ints(Object list) {
        List<Object> l = Json.arr(list);
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = (int) (long) (Long) l.get(i);
        return a;
    }

    static List<Map<String, Object>> entries(Map<String, Object> ref, String key) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : Json.arr(ref.get(key))) out.add(Json.obj(o));
        return out;
    }
}
