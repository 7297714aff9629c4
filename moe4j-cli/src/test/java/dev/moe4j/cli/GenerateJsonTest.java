package dev.moe4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code generate --json} and {@code --json-schema FILE}: valid output from random weights, one-line errors. */
class GenerateJsonTest {
    @TempDir Path tmp;

    @Test
    void jsonSchemaOutputParsesAndFollowsTheSchema() throws Exception {
        CliTest.findRefs();
        CliTest.needRefs();
        Path schema = tmp.resolve("schema.json");
        Files.writeString(schema, "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9},"
                + "\"s\":{\"type\":\"string\",\"maxLength\":8}},\"required\":[\"n\",\"s\"],\"additionalProperties\":false}");
        for (String seed : new String[]{"1", "2", "3"}) {
            CliTest.Run r = CliTest.run("generate", "--model", CliTest.refs.resolve("mixtral-tiny").toString(), "--prompt", "JSON:",
                    "--json-schema", schema.toString(), "--max-tokens", "40", "--temperature", "1", "--seed", seed);
            assertEquals(0, r.code(), r.err());
            Map<String, Object> o = dev.moe4j.util.Json.parseObject(r.out().strip());
            long n = (Long) o.get("n");
            assertTrue(n >= 1 && n <= 9, r.out());
            String str = (String) o.get("s");
            assertTrue(str.codePointCount(0, str.length()) <= 8, r.out());   // characters, not UTF-16 units
        }
        CliTest.Run any = CliTest.run("generate", "--model", CliTest.refs.resolve("qwen2moe-tiny").toString(), "--prompt", "x",
                "--json", "--max-tokens", "20", "--seed", "4");
        assertEquals(0, any.code(), any.err());
        dev.moe4j.util.Json.parseObject(any.out().strip());
    }

    @Test
    void badSchemaFilesAreOneLineErrorsNamingThem() throws Exception {
        CliTest.findRefs();
        CliTest.needRefs();
        String model = CliTest.refs.resolve("mixtral-tiny").toString();
        Path unsupported = tmp.resolve("format.json"), broken = tmp.resolve("broken.json");
        Files.writeString(unsupported, "{\"type\":\"string\",\"format\":\"uri\"}");
        Files.writeString(broken, "{\"type\":");
        CliTest.assertOneLineError(CliTest.run("generate", "--model", model, "--prompt", "x", "--json-schema", unsupported.toString()),
                "format.json", "'format'");
        CliTest.assertOneLineError(CliTest.run("generate", "--model", model, "--prompt", "x", "--json-schema", broken.toString()),
                "broken.json", "not valid JSON");
        CliTest.assertOneLineError(CliTest.run("generate", "--model", model, "--prompt", "x", "--json-schema", tmp.resolve("missing.json").toString()),
                "missing.json");
    }
}
