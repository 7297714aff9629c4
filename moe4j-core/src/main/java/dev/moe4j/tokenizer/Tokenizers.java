package dev.moe4j.tokenizer;

import dev.moe4j.util.Json;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Loads tokenizers from Hugging Face folders, SentencePiece models and GGUF metadata. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * Loads {@code tokenizer.json} from a Hugging Face checkpoint folder, or {@code tokenizer.model} when there
     * is none; {@code tokenizer_config.json}, when present, names bos/eos and may set add_bos/eos_token.
     */
    public static Tokenizer fromHuggingFaceFolder(Path dir) {
        Path json = dir.resolve("tokenizer.json");
        Path model = dir.resolve("tokenizer.model");
        Map<String, Object> config = null;
        Path configFile = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(configFile)) config = parseJson(configFile);
        if (Files.isRegularFile(json)) return fromTokenizerJson(json, config);
        if (Files.isRegularFile(model)) {
            SpmVocab v = SentencePieceModel.read(read(model), model.toString());
            if (config != null) applyConfig(v, config);
            return v.build();
        }
        throw new Moe4jException(dir + ": no tokenizer.json or tokenizer.model in this folder");
    }

    /** Loads a {@code tokenizer.json} file, with an optional parsed tokenizer_config.json (may be null). */
    public static Tokenizer fromTokenizerJson(Path file, Map<String, Object> tokenizerConfig) {
        return HfJsonLoader.load(parseJson(file), tokenizerConfig, file.toString());
    }

    /** Loads a SentencePiece {@code tokenizer.model} (BPE type, as Llama/Mistral use). */
    public static Tokenizer fromSentencePieceModel(Path file) {
        return SentencePieceModel.read(read(file), file.toString()).build();
    }

    /**
     * Builds the tokenizer a GGUF file describes. Values are boxed as the GGUF reader gives them: integers
     * {@code Long}, float32 {@code Float}, bool {@code Boolean}, strings, arrays {@code List<Object>}.
     */
    public static Tokenizer fromGgufMetadata(Map<String, Object> metadata, String sourceName) {
        return GgufVocab.load(metadata, sourceName);
    }

    private static void applyConfig(SpmVocab v, Map<String, Object> config) {
        if (config.get("add_bos_token") instanceof Boolean b) v.addBos = b;
        if (config.get("add_eos_token") instanceof Boolean b) v.addEos = b;
    }

    /** Largest tokenizer file read (published tokenizer.json files are under 40 MB). */
    static final long MAX_FILE_BYTES = 256L << 20;

    private static byte[] read(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) throw new Moe4jException(file + ": file is " + size + " bytes, more than the " + MAX_FILE_BYTES + " accepted");
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new Moe4jException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> parseJson(Path file) {
        try {
            return Json.parseObject(new String(read(file), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new Moe4jException(file + ": " + e.getMessage(), e);
        }
    }
}
