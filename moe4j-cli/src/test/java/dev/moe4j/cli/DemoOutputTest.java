package dev.moe4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `demo` replaces its own earlier output but will not overwrite files in a folder that holds other things too. */
class DemoOutputTest {
    @Test
    void replacesItsOwnOutputAndProtectsOtherFolders(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("demo");
        for (int i = 0; i < 2; i++) {
            TrainRunSafetyTest.Run r = TrainRunSafetyTest.run("demo", "--steps", "1", "--out", out.toString());
            assertEquals(0, r.code(), "run " + (i + 1) + ": " + r.err());
            assertTrue(Files.exists(out.resolve("moe.gguf")) && Files.exists(out.resolve("moe-hf/model.safetensors")));
        }
        Files.writeString(out.resolve("notes.txt"), "mine");
        String report = Files.readString(out.resolve("report.html"));
        TrainRunSafetyTest.Run refused = TrainRunSafetyTest.run("demo", "--steps", "1", "--out", out.toString());
        TrainRunSafetyTest.assertOneLineError(refused, out.toString(), "notes.txt", "report.html", "--force");
        assertTrue(refused.out().isEmpty(), "refused before training: " + refused.out());
        assertEquals(report, Files.readString(out.resolve("report.html")));

        Path project = Files.createDirectory(dir.resolve("project"));
        Files.writeString(project.resolve("summary.json"), "{\"mine\": true}");
        Files.writeString(project.resolve("README.md"), "mine");
        TrainRunSafetyTest.assertOneLineError(TrainRunSafetyTest.run("demo", "--out", project.toString()), "summary.json", "--force");
        assertEquals("{\"mine\": true}", Files.readString(project.resolve("summary.json")));
    }
}
