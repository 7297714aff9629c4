package dev.moe4j.cli;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI in a JVM of its own, for tests that interrupt it: started with the test's class path, its output collected,
 * signalled once it is busy. Ctrl-C is SIGINT, or SIGTERM (the same shutdown hook) where this JVM was started with
 * SIGINT ignored and so its children are.
 */
final class ChildCli implements AutoCloseable {
    final boolean sigint = !LauncherTest.sigintIgnored();
    final Process process;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final Thread drain;

    ChildCli(String... args) throws java.io.IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        drain = Thread.ofVirtual().start(() -> {
            try { process.getInputStream().transferTo(output); } catch (java.io.IOException ignored) { }
        });
    }

    /** Waits (at most 120 s) until {@code busy} holds, asserts it does and the process still runs, then sends Ctrl-C's signal and waits for it to end. */
    void interruptWhen(BooleanSupplier busy, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (process.isAlive() && System.nanoTime() < deadline && !busy.getAsBoolean()) Thread.sleep(10);
        assertTrue(process.isAlive() && busy.getAsBoolean(), what + " was running when interrupted; output: " + output());
        new ProcessBuilder("kill", "-" + (sigint ? "INT" : "TERM"), "" + process.pid()).start().waitFor(10, TimeUnit.SECONDS);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), what + " stopped after SIG" + (sigint ? "INT" : "TERM"));
    }

    /** The exit status an interrupted run must give: 128 + the signal. */
    int interruptedStatus() {
        return sigint ? 130 : 143;
    }

    /** Everything the process printed (waits for the output to close once the process has ended). */
    String output() throws InterruptedException {
        if (!process.isAlive()) drain.join(10_000);
        return output.toString();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
