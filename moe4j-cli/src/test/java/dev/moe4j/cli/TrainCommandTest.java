package dev.moe4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainCommandTest {
    private static int run(StringWriter out, StringWriter err, String... args) {
        return Main.run(args, new PrintWriter(out), new PrintWriter(err));
    }

    @Test
    void trainsOnATextFileResumesAndExports(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("text.txt");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 400; i++) b.append("the cat ").append(i % 7 == 0 ? "sat on the mat" : "ran to the hat").append(" number ").append(i).append(".\n");
        Files.writeString(text, b);
        Path out = dir.resolve("run");
        String[] common = {"--data", text.toString(), "--vocab", "300", "--dim", "16", "--heads", "2", "--ffn", "16", "--seq-len", "16",
                "--batch", "4", "--experts", "4", "--checkpoint-every", "3", "--eval-every", "3", "--out", out.toString()};
        StringWriter o = new StringWriter(), e = new StringWriter();
        String[] first = concat(common, "--steps", "4");
        assertEquals(0, run(o, e, first), e.toString());
        assertTrue(o.toString().contains("Exported as MIXTRAL"), o.toString());
        assertTrue(e.toString().contains("tok/s") && e.toString().contains("ETA"), e.toString());
        assertTrue(Files.exists(out.resolve("hf/model.safetensors")) && Files.exists(out.resolve("model.gguf")));

        StringWriter o2 = new StringWriter(), e2 = new StringWriter();
        assertEquals(0, run(o2, e2, "train", "--out", out.toString(), "--resume"), e2.toString());
        assertTrue(o2.toString().contains("Resuming") && o2.toString().contains("at step 4 of 4"), o2.toString());

        StringWriter o3 = new StringWriter(), e3 = new StringWriter();
        assertEquals(0, run(o3, e3, "generate", "--model", out.resolve("hf").toString(), "--prompt", "the cat", "--max-tokens", "4", "--temperature", "0"), e3.toString());
    }

    @Test
    void expertChoiceInACausalModelIsAClearError(@TempDir Path dir) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        assertEquals(Main.EXIT_BAD_INPUT, run(o, e, "train", "--router", "expert-choice", "--steps", "1", "--out", dir.toString()));
        assertTrue(e.toString().contains("expert-choice routing cannot train a causal language model"), e.toString());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = new String[a.length + b.length + 1];
        r[0] = "train";
        System.arraycopy(a, 0, r, 1, a.length);
        System.arraycopy(b, 0, r, 1 + a.length, b.length);
        return r;
    }
}
