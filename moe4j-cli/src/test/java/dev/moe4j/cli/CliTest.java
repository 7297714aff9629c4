package dev.moe4j.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands end to end, on the reference checkpoints, including every kind of bad input. */
class CliTest {
    static Path refs;
    @TempDir Path tmp;

    record Run(int code, String out, String err) {}

    @BeforeAll
    static void findRefs() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("shared/refs"))) p = p.getParent();
        refs = p == null ? null : p.resolve("shared/refs");
    }

    static void needRefs() {
        if (refs == null) System.out.println("SKIPPING command test: ../shared/refs is absent");
        Assumptions.assumeTrue(refs != null, "skipped: ../shared/refs is absent, so there is no checkpoint to run the commands on");
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    static void assertOneLineError(Run r, String... mustContain) {
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\tat "), "no stack trace without --verbose: " + err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        for (String s : mustContain) assertTrue(err.contains(s), "error should name '" + s + "': " + err);
    }

    @Test
    void infoShowsTotalAndActiveParameters() {
        needRefs();
        Run r = run("info", "--model", refs.resolve("mixtral-tiny").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("architecture   mixtral"), r.out());
        assertTrue(r.out().contains("parameters     386 k total, 165 k active per token (42.8 %)"), r.out());
        assertTrue(r.out().contains("tensor types   F32 (65 tensors, 386 k parameters, 1.47 MiB)"), r.out());
    }

    @Test
    void versionIsTheMavenProjectVersion() throws Exception {
        // The version in moe4j-cli/pom.xml's <parent> (the working directory of these tests is the module's folder).
        String pom = Files.readString(Path.of("pom.xml"));
        var m = java.util.regex.Pattern.compile("(?s)<parent>.*?<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "no parent version in " + Path.of("pom.xml").toAbsolutePath());
        Run r = run("--version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("moe4j " + m.group(1) + " on Java "), r.out());
    }

    @Test
    void tokenizeMatchesSpecialTokensWithoutAddingBos() {
        needRefs();
        Run r = run("tokenize", "--model", refs.resolve("qwen2moe-tiny").toString(), "--text", "<|im_start|>user\nhi<|im_end|>", "--no-special");
        assertEquals(0, r.code(), r.err());
        assertEquals("[1, 87, 85, 263, 201, 74, 75, 2]", r.out().strip());
        Run withBos = run("tokenize", "--model", refs.resolve("mixtral-tiny/model-f32.gguf").toString(), "--text", "Hello world");
        assertTrue(withBos.out().startsWith("[1, 408, 483"), withBos.out());
    }

    @Test
    void logitsWritesFloat32RowsForEveryPosition() throws Exception {
        needRefs();
        Path out = tmp.resolve("l.f32");
        Run r = run("logits", "--model", refs.resolve("olmoe-tiny").toString(), "--ids", "0,42,7", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(3L * 600 * 4, Files.size(out));
    }

    @Test
    void greedyGenerationPrintsTheReferenceContinuation() throws Exception {
        needRefs();
        String json = Files.readString(refs.resolve("qwen3moe-tiny/reference.json"));
        var prompt = dev.moe4j.util.Json.obj(dev.moe4j.util.Json.arr(dev.moe4j.util.Json.parseObject(json).get("prompts")).get(0));
        String ids = prompt.get("ids").toString().replaceAll("[\\[\\] ]", "");
        Run r = run("generate", "--model", refs.resolve("qwen3moe-tiny").toString(), "--ids", ids, "--temperature", "0",
                "--max-tokens", "16", "--print-ids");
        assertEquals(0, r.code(), r.err());
        assertEquals(prompt.get("greedy").toString().replace(" ", ""), r.out().strip().replace(" ", ""));

        Run text = run("generate", "--model", refs.resolve("mixtral-tiny").toString(), "--prompt", "The quick", "--max-tokens", "8",
                "--seed", "3", "--top-p", "0.9", "--min-p", "0.01", "--repeat-penalty", "1.1");
        assertEquals(0, text.code(), text.err());
        assertFalse(text.out().isBlank());
    }

    @Test
    void chatAnswersAndQuitsAtEndOfInput() {
        needRefs();
        InputStream old = System.in;
        try {
            System.setIn(new ByteArrayInputStream("hello\n/reset\nhi again\n".getBytes(StandardCharsets.UTF_8)));
            Run r = run("chat", "--model", refs.resolve("qwen2moe-tiny").toString(), "--max-tokens", "4", "--seed", "1");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("(conversation cleared)"), r.out());
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void missingPathIsAOneLineError() {
        Run r = run("info", "--model", tmp.resolve("nope.gguf").toString());
        assertOneLineError(r, "nope.gguf", "no such file");
    }

    @Test
    void truncatedGgufIsAOneLineErrorNamingTheFile() throws Exception {
        needRefs();
        byte[] all = Files.readAllBytes(refs.resolve("mixtral-tiny/model-f32.gguf"));
        for (int cut : new int[] {3, 24, 1000, all.length / 2, all.length - 1}) {
            Path bad = tmp.resolve("cut" + cut + ".gguf");
            Files.write(bad, java.util.Arrays.copyOf(all, cut));
            assertOneLineError(run("info", "--model", bad.toString()), bad.getFileName().toString());
        }
    }

    @Test
    void unknownArchitectureMissingAndMisShapedTensorsAreNamed() throws Exception {
        needRefs();
        Path src = refs.resolve("mixtral-tiny");
        String config = Files.readString(src.resolve("config.json"));

        Path unknown = copyWithConfig(src, "unknown", config.replace("\"mixtral\"", "\"gpt_neo_moe\""));
        assertOneLineError(run("info", "--model", unknown.toString()), "config.json", "gpt_neo_moe");

        Path deeper = copyWithConfig(src, "deeper", config.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        assertOneLineError(run("info", "--model", deeper.toString()), "missing tensor", "model.layers.2.");

        Path wider = copyWithConfig(src, "wider", config.replace("\"intermediate_size\": 96", "\"intermediate_size\": 80"));
        assertOneLineError(run("info", "--model", wider.toString()), "experts.0.w1.weight", "[96, 64]", "[80, 64]");
    }

    @Test
    void badTokenIdsAreRejected() {
        needRefs();
        String model = refs.resolve("olmoe-tiny").toString();
        assertOneLineError(run("logits", "--model", model, "--ids", "1,600", "--out", tmp.resolve("x").toString()), "token id 600");
        assertOneLineError(run("generate", "--model", model, "--ids", "1,x"), "'x'");
        Run missing = run("generate", "--prompt", "hi");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--model"), missing.err());
    }

    @Test
    void optionErrorsAreOneLineNamingTheOption() {
        assertOneLineError(run("info"), "--model");
        assertOneLineError(run("info", "--model", "x", "--no-such-option"), "--no-such-option");
        assertOneLineError(run("bench", "--model", "x", "-p", "many"), "'many'", "-p");
        assertOneLineError(run("generate", "--model", "x", "--threads", "4O", "--prompt", "hi"), "--threads", "'4O'");
    }

    @Test
    void verbosePrintsTheStackTrace() {
        Run r = run("info", "--model", tmp.resolve("nope").toString(), "--verbose");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    private Path copyWithConfig(Path src, String name, String config) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : new String[] {"model.safetensors", "tokenizer.json", "tokenizer_config.json"}) Files.copy(src.resolve(f), dir.resolve(f));
        Files.writeString(dir.resolve("config.json"), config);
        return dir;
    }
}
