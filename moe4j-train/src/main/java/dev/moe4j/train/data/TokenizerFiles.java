package dev.moe4j.train.data;

import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.tokenizer.Tokenizers;
import dev.moe4j.util.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a vocabulary as Hugging Face tokenizer files and loads it back through moe4j's own tokenizer. */
public final class TokenizerFiles {
    private TokenizerFiles() {}

    /** Writes tokenizer.json and tokenizer_config.json into {@code dir} (a temporary folder when null) and loads them. */
    public static Tokenizer write(ByteBpe vocab, Path dir, int maxLength) {
        try {
            Path d = dir != null ? dir : Files.createTempDirectory("moe4j-tok");
            Files.createDirectories(d);
            Path json = d.resolve("tokenizer.json");
            String config = vocab.tokenizerConfigJson(maxLength);
            Files.writeString(json, vocab.tokenizerJson());
            Files.writeString(d.resolve("tokenizer_config.json"), config);
            Tokenizer t = Tokenizers.fromTokenizerJson(json, Json.parseObject(config));
            if (dir == null) {
                Files.delete(json);
                Files.delete(d.resolve("tokenizer_config.json"));
                Files.delete(d);
            }
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
