package dev.moe4j.tokenizer;

import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.util.Json;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every tokenizer case and prompt of every reference folder, through every loader that applies. */
class ReferenceTokenizerTest {

    @TestFactory
    List<DynamicNode> referenceCases() {
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path dir : RefData.folders()) {
            Map<String, Object> ref = RefData.json(dir.resolve("reference.json"));
            String name = dir.getFileName().toString();
            nodes.add(suite(name + " tokenizer.json", () -> Tokenizers.fromHuggingFaceFolder(dir), ref));
            Path spm = dir.resolve("tokenizer.model");
            if (Files.isRegularFile(spm)) {
                nodes.add(suite(name + " tokenizer.model", () -> Tokenizers.fromSentencePieceModel(spm), ref));
                nodes.add(suite(name + " gguf llama vocab", () -> Tokenizers.fromGgufMetadata(llamaMetadata(spm), name), ref));
            } else {
                nodes.add(suite(name + " gguf gpt2 vocab",
                        () -> Tokenizers.fromGgufMetadata(gpt2Metadata(dir.resolve("tokenizer.json")), name), ref));
            }
            // The vocabularies llama.cpp's converter actually wrote.
            for (String file : List.of("model-f32.gguf", "model-q8_0.gguf")) {
                Path gguf = dir.resolve(file);
                if (!Files.isRegularFile(gguf)) continue;
                nodes.add(suite(name + " " + file, () -> {
                    try (GgufFile g = GgufFile.open(gguf)) {
                        return Tokenizers.fromGgufMetadata(g.metadata(), gguf.toString());
                    }
                }, ref));
            }
        }
        return nodes;
    }

    private static DynamicContainer suite(String name, Supplier<Tokenizer> load, Map<String, Object> ref) {
        Tokenizer[] tok = new Tokenizer[1];
        Supplier<Tokenizer> once = () -> tok[0] != null ? tok[0] : (tok[0] = load.get());
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> c : RefData.entries(ref, "tokenizer_cases")) {
            String text = (String) c.get("text");
            int[] ids = RefData.ints(c.get("ids"));
            tests.add(DynamicTest.dynamicTest("case " + printable(text), () -> {
                assertArrayEquals(ids, once.get().encode(text, false), "encode " + printable(text));
                assertEquals(c.get("decoded"), once.get().decode(ids), "decode " + Arrays.toString(ids));
            }));
        }
        for (Map<String, Object> p : RefData.entries(ref, "prompts")) {
            String text = (String) p.get("text");
            int[] ids = RefData.ints(p.get("ids"));
            tests.add(DynamicTest.dynamicTest("prompt " + p.get("index"),
                    () -> assertArrayEquals(ids, once.get().encode(text, true), "encode with specials " + printable(text))));
        }
        return DynamicContainer.dynamicContainer(name, tests);
    }

    private static String printable(String s) {
        return "'" + s.replace("\n", "\\n").replace("\t", "\\t") + "'";
    }

    /** What llama.cpp's converter writes for a SentencePiece vocabulary: pieces in id order, scores, types. */
    static Map<String, Object> llamaMetadata(Path spmFile) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(spmFile);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        SpmVocab v = SentencePieceModel.read(bytes, spmFile.toString());
        List<Object> tokens = new ArrayList<>(), scores = new ArrayList<>(), types = new ArrayList<>();
        for (int i = 0; i < v.pieces.length; i++) {
            tokens.add(v.pieces[i]);
            scores.add(v.scores[i]);
            types.add((long) v.types[i]);
        }
        Map<String, Object> md = new HashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.pre", "default");
        md.put("tokenizer.ggml.tokens", tokens);
        md.put("tokenizer.ggml.scores", scores);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.bos_token_id", (long) v.bosId);
        md.put("tokenizer.ggml.eos_token_id", (long) v.eosId);
        md.put("tokenizer.ggml.unknown_token_id", (long) v.unkId);
        md.put("tokenizer.ggml.add_space_prefix", Boolean.TRUE);
        return md;
    }

    /** What llama.cpp's converter writes for a byte-level BPE tokenizer.json: tokens in id order, "a b" merges. */
    static Map<String, Object> gpt2Metadata(Path tokenizerJson) {
        Map<String, Object> root = RefData.json(tokenizerJson);
        Map<String, Object> model = Json.obj(root.get("model"));
        Map<String, Object> vocab = Json.obj(model.get("vocab"));
        int n = vocab.size();
        String[] tokens = new String[n];
        long[] types = new long[n];
        Arrays.fill(types, 1);
        for (var e : vocab.entrySet()) tokens[(int) (long) (Long) e.getValue()] = e.getKey();
        for (Object o : Json.arr(root.get("added_tokens"))) {
            Map<String, Object> t = Json.obj(o);
            int id = (int) (long) (Long) t.get("id");
            tokens[id] = (String) t.get("content");
            types[id] = Boolean.TRUE.equals(t.get("special")) ? 3 : 4;
        }
        List<Object> merges = new ArrayList<>();
        for (Object m : Json.arr(model.get("merges"))) {
            merges.add(m instanceof String s ? s : String.join(" ", Json.arr(m).stream().map(String.class::cast).toList()));
        }
        List<Object> typeList = new ArrayList<>();
        for (long t : types) typeList.add(t);
        Map<String, Object> md = new HashMap<>();
        md.put("tokenizer.ggml.model", "gpt2");
        md.put("tokenizer.ggml.pre", "gpt-2");
        md.put("tokenizer.ggml.tokens", new ArrayList<Object>(Arrays.asList(tokens)));
        md.put("tokenizer.ggml.token_type", typeList);
        md.put("tokenizer.ggml.merges", merges);
        md.put("tokenizer.ggml.bos_token_id", 0L); // as the reference GGUFs carry, without add_bos_token
        md.put("tokenizer.ggml.eos_token_id", 0L);
        return md;
    }
}
