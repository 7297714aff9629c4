package dev.moe4j.cli;

import dev.moe4j.serve.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.moe4j.cli.CliTest.assertOneLineError;
import static dev.moe4j.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** `moe4j serve`'s options and start-up failures: one line naming the option, file or address, exit 2. */
class ServeCommandTest {
    @TempDir Path tmp;

    static ServerOptions parse(String... args) {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.options();
    }

    @Test
    void aPortInUseIsOneLineNamingHostAndPort() throws Exception {
        CliTest.findRefs();
        CliTest.needRefs();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CliTest.Run r = run("serve", "--model", CliTest.refs.resolve("qwen2moe-tiny").toString(), "--host", "127.0.0.1",
                    "--port", String.valueOf(taken.getLocalPort()));
            assertOneLineError(r, "127.0.0.1:" + taken.getLocalPort(), "in use");
        }
    }

    @Test
    void theKeyFileIsReadTrimmedAndEveryFaultNamesIt() throws Exception {
        Path key = tmp.resolve("key");
        Files.writeString(key, "  sk-from-file\n");
        assertEquals("sk-from-file", parse("--model", "m.gguf", "--api-key-file", key.toString()).apiKey());

        Path empty = tmp.resolve("empty");
        Files.writeString(empty, " \n");
        assertOneLineError(run("serve", "--model", "m.gguf", "--api-key-file", empty.toString()), empty.toString(), "empty");
        Path missing = tmp.resolve("missing");
        assertOneLineError(run("serve", "--model", "m.gguf", "--api-key-file", missing.toString()), missing.toString(), "no such file");
        assertOneLineError(run("serve", "--model", "m.gguf", "--api-key-file", tmp.toString()), tmp.toString());
        assertOneLineError(run("serve", "--model", "m.gguf", "--api-key-file", key.toString(), "--api-key", "x"), "--api-key-file");
    }

    @Test
    void accessAndLimitOptionsReachTheServer() {
        ServerOptions o = parse("--model", "m.gguf", "--allowed-host", "models.example.org", "--allowed-host", "10.0.0.5",
                "--cors-origin", "https://app.example", "--max-connections", "32", "--header-timeout", "2.5", "--body-timeout", "60");
        assertEquals(List.of("models.example.org", "10.0.0.5"), o.access().allowedHosts());
        assertEquals(List.of("https://app.example"), o.access().corsOrigins());
        assertEquals(new ServerOptions.ConnectionLimits(32, 2_500, 60_000, ServerOptions.ConnectionLimits.DEFAULT.maxBodyBytes()), o.limits());
        assertEquals(ServerOptions.WebAccess.LOOPBACK_ONLY, parse("--model", "m.gguf").access());
    }

    @Test
    void badValuesNameTheirOption() {
        assertOneLineError(run("serve", "--model", "m.gguf", "--header-timeout", "0"), "--header-timeout");
        assertOneLineError(run("serve", "--model", "m.gguf", "--body-timeout", "-1"), "--body-timeout");
        assertOneLineError(run("serve", "--model", "m.gguf", "--max-connections", "0"), "--max-connections");
        assertOneLineError(run("serve", "--model", "m.gguf", "--cors-origin", "app.example"), "--cors-origin", "app.example");
        assertOneLineError(run("serve", "--model", "m.gguf", "--allowed-host", "http://x/"), "--allowed-host");
    }
}
