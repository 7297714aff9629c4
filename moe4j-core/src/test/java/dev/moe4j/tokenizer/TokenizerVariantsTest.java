package dev.moe4j.tokenizer;

import dev.moe4j.RefsLocator;
import dev.moe4j.util.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * tokenizer.json settings that the real files in {@link HfOracleTest} do not use but other checkpoints of the
 * same families do (Mistral's Metaspace decoder, no decoder, added tokens that strip spaces or must be single
 * words or are matched after normalisation, GPT-2's prefix space, Metaspace splitting): each is a reference
 * tokenizer with the setting changed, compared with Hugging Face's library as in {@link HfOracleTest}.
 */
class TokenizerVariantsTest {
    @TempDir Path tmp;

    @TestFactory
    List<DynamicTest> variants() {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "skipped: shared/refs is absent");
        Path spm = refs.resolve("mixtral-tiny/tokenizer.json"), byteLevel = refs.resolve("qwen2moe-tiny/tokenizer.json");
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(variant("metaspace decoder", spm, root -> root.put("decoder",
                map("type", "Metaspace", "replacement", "\u2581", "prepend_scheme", "first", "split", false))));
        tests.add(variant("no decoder", spm, root -> root.put("decoder", null)));
        tests.add(variant("metaspace always, split", spm, root -> root.put("pre_tokenizer",
                map("type", "Metaspace", "replacement", "\u2581", "prepend_scheme", "always", "split", true))));
        tests.add(variant("legacy llama normalizer", spm, root -> {
            root.put("pre_tokenizer", null);
            root.put("normalizer", map("type", "Sequence", "normalizers", List.of(map("type", "Prepend", "prepend", "\u2581"),
                    map("type", "Replace", "pattern", map("String", " "), "content", "\u2581"))));
        }));
        tests.add(variant("byte-level prefix space", byteLevel, root -> root.put("pre_tokenizer",
                map("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", true, "use_regex", true))));
        tests.add(variant("added token flags", byteLevel, root -> {
            root.put("normalizer", map("type", "NFC"));
            List<Object> added = Json.arr(root.get("added_tokens"));
            Json.obj(added.get(1)).put("rstrip", true);   // <|im_start|>
            Json.obj(added.get(2)).put("lstrip", true);   // <|im_end|>
            Map<String, Object> vocab = Json.obj(Json.obj(root.get("model")).get("vocab"));
            long next = 0;
            for (Object id : vocab.values()) next = Math.max(next, (Long) id + 1);
            for (Object t : added) next = Math.max(next, (Long) Json.obj(t).get("id") + 1);
            added.add(addedToken(next, "hello", false, false, true, false));
            added.add(addedToken(next + 1, "caf\u00e9", false, false, false, true));
            added.add(addedToken(next + 2, "[X]", true, true, false, false));
        }));
        return tests;
    }

    private static Map<String, Object> addedToken(long id, String content, boolean special, boolean lstrip,
                                                  boolean singleWord, boolean normalized) {
        return map("id", id, "content", content, "single_word", singleWord, "lstrip", lstrip, "rstrip", false,
                "normalized", normalized, "special", special);
    }

    private DynamicTest variant(String name, Path base, Consumer<Map<String, Object>> change) {
        return DynamicTest.dynamicTest(name, () -> {
            Map<String, Object> root = RefData.json(base);
            change.accept(root);
            Path file = tmp.resolve(name.replace(' ', '-') + ".json");
            Files.writeString(file, write(root));
            HfOracleTest.compare(file, 200);
        });
    }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** Minimal JSON writer for the parsed trees {@link Json} gives (maps, lists, strings, longs, doubles, booleans, null). */
    static String write(Object o) {
        StringBuilder sb = new StringBuilder();
        write(o, sb);
        return sb.toString();
    }

    private static void write(Object o, StringBuilder sb) {
        if (o == null) sb.append("null");
        else if (o instanceof String s) {
            sb.append('"');
            for (char c : s.toCharArray()) {
                if (c == '"' || c == '\\') sb.append('\\').append(c);
                else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                else sb.append(c);
            }
            sb.append('"');
        } else if (o instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (var e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                write(e.getKey(), sb);
                sb.append(':');
                write(e.getValue(), sb);
            }
            sb.append('}');
        } else if (o instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(',');
                write(l.get(i), sb);
            }
            sb.append(']');
        } else {
            sb.append(o);
        }
    }
}
