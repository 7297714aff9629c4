package dev.moe4j.cli;

import dev.moe4j.cli.perf.ByteLevelVocab;
import dev.moe4j.cli.perf.ReadBandwidth;
import dev.moe4j.model.KvCache;
import dev.moe4j.model.Model;
import dev.moe4j.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** synth writes a tiny model that moe4j loads, tokenizes with and runs; bench on it prints sane JSON. */
class SynthBenchTest {
    @TempDir Path dir;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, "moe4j " + String.join(" ", args) + ": " + err);
        return new String[] {out.toString(), err.toString()};
    }

    @Test
    void synthEveryTypeLoadsAndRuns() {
        for (String type : new String[] {"q8_0", "q4_0", "q4_k", "q6_k", "f16"}) {
            Path f = dir.resolve("tiny-" + type + ".gguf");
            run("synth", "--shape", "tiny", "--out", f.toString(), "--type", type, "--seed", "3");
            try (Model m = Model.load(f)) {
                assertEquals(1000, m.config().vocabSize());
                int[] ids = m.tokenizer().encode("hello world", false);
                assertTrue(ids.length > 0);
                KvCache cache = m.transformer().newCache(ids.length + 1);
                float[] logits = m.transformer().forward(ids, cache, false);
                for (float v : logits) assertTrue(Float.isFinite(v), type);
                float[] next = m.transformer().forward(new int[] {ids[0]}, cache, false);
                assertEquals(1000, next.length);
            }
        }
    }

    @Test
    void synthGptOssMxfp4LoadsAndRuns() {
        Path f = dir.resolve("gpt-oss-tiny.gguf");
        run("synth", "--shape", "gpt-oss-tiny", "--out", f.toString(), "--type", "mxfp4", "--seed", "3");
        try (Model m = Model.load(f)) {
            assertEquals(dev.moe4j.model.Architecture.GPT_OSS, m.config().architecture());
            assertTrue(m.config().attention().slides(0) && !m.config().attention().slides(1));
            assertEquals(dev.moe4j.tensor.DType.MXFP4, m.store().find("blk.1.ffn_down_exps.weight").orElseThrow().dtype());
            assertEquals(dev.moe4j.tensor.DType.Q8_0, m.store().find("blk.1.attn_q.weight").orElseThrow().dtype());
            int[] ids = {5, 17, 300, 999, 42, 7, 8, 9, 10, 11};
            float[] logits = m.transformer().forward(ids, m.transformer().newCache(ids.length), true);
            for (float v : logits) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void vocabularyHasTheExactSizeAndValidMerges() {
        ByteLevelVocab v = ByteLevelVocab.ofSize(5000);
        assertEquals(5000, v.tokens().size());
        assertEquals(5000 - 257, v.merges().size());
        java.util.Set<String> toks = new java.util.HashSet<>(v.tokens());
        assertEquals(5000, toks.size(), "tokens are unique");
        for (String merge : v.merges()) {
            String[] p = merge.split(" ");
            assertTrue(toks.contains(p[0]) && toks.contains(p[1]) && toks.contains(p[0] + p[1]), merge);
        }
    }

    @Test
    void benchPrintsJsonWithNullForWhatItDidNotMeasure() {
        Path f = dir.resolve("tiny.gguf");
        run("synth", "--shape", "tiny", "--out", f.toString(), "--type", "q8_0");
        String out = run("bench", "--model", f.toString(), "-p", "8", "-n", "4", "-r", "1", "--json", "--bandwidth-mib", "0")[0];
        Map<String, Object> j = Json.parseObject(out.trim());
        for (String test : List.of("pp", "tg")) {
            @SuppressWarnings("unchecked") Map<String, Object> t = (Map<String, Object>) j.get(test);
            @SuppressWarnings("unchecked") Map<String, Object> s = (Map<String, Object>) t.get("tokens_per_s");
            assertTrue(((Number) s.get("median")).doubleValue() > 0, test);
        }
        assertTrue(((Number) j.get("active_bytes_per_token")).longValue() > 0);
        assertTrue(((Number) j.get("active_bytes_per_token")).longValue() < ((Number) j.get("size_bytes")).longValue());
        assertTrue(((Number) j.get("achieved_bytes_per_s")).doubleValue() > 0);
        assertTrue(j.containsKey("machine_read_bytes_per_s") && j.get("machine_read_bytes_per_s") == null, "not measured: " + out);
        assertTrue(((Number) j.get("allocated_bytes_per_token")).doubleValue() >= 0, "HotSpot counts allocation: " + out);
    }

    @Test
    void readBandwidthIsMeasured() {
        assertTrue(ReadBandwidth.measure(16 << 20, 1) > 0);
    }

    @Test
    void benchRefusesABandwidthBufferItCannotHold() {
        CliTest.assertOneLineError(CliTest.run("bench", "--model", dir.resolve("x.gguf").toString(), "--bandwidth-mib", "-1"),
                "--bandwidth-mib", "negative");
        CliTest.assertOneLineError(CliTest.run("bench", "--model", dir.resolve("x.gguf").toString(), "--bandwidth-mib", "2000000000"),
                "--bandwidth-mib", "more than half");
    }
}
