package dev.moe4j.cli;

import dev.moe4j.train.InvalidSettingException;
import dev.moe4j.util.Moe4jException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Properties;

/** The {@code moe4j} command. */
@Command(name = "moe4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Mixture-of-Experts for the JVM: train MoE models, run and serve MoE checkpoints (GGUF or Hugging Face folders), benchmark and quantise them.",
        subcommands = {DemoCommand.class, TrainCommand.class, InfoCommand.class, TokenizeCommand.class, LogitsCommand.class,
                GenerateCommand.class, ChatCommand.class, ServeCommand.class, SynthCommand.class, BenchCommand.class, QuantizeCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    /** Exit code for bad input: a bad file, a bad argument. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code of a write stopped by Ctrl-C (128 + SIGINT), as a shell reports it. */
    static final int EXIT_INTERRUPTED = 130;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code (tests call this directly). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof OutputFile.Interrupted || ex instanceof ShutdownGuard.Stopped) return EXIT_INTERRUPTED; // the shutdown hook reports it
            if (verbose) ex.printStackTrace(err);
            if (ex instanceof InvalidSettingException s) { // a training setting: named as this command's option where it has one
                err.println("moe4j: error: " + s.describe(name -> commandLine.getCommandSpec().findOption("--" + name) != null ? "--" + name : name));
                return EXIT_BAD_INPUT;
            }
            if (ex instanceof Moe4jException || ex instanceof IllegalArgumentException) {
                err.println("moe4j: error: " + ex.getMessage());
                return EXIT_BAD_INPUT;
            }
            if (ex instanceof IOException || ex instanceof UncheckedIOException) { // a file that cannot be read or written
                err.println("moe4j: error: " + describe(ex));
                return EXIT_BAD_INPUT;
            }
            err.println("moe4j: internal error: " + ex + (verbose ? "" : " (run with --verbose for the stack trace)"));
            return 1;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            String command = ex.getCommandLine().getCommandName().equals("moe4j") ? "" : ex.getCommandLine().getCommandName() + " ";
            err.println("moe4j: " + ex.getMessage() + "; see 'moe4j " + command + "--help'");
            return EXIT_BAD_INPUT;
        });
        cl.setExecutionStrategy(parsed -> {
            ThreadsOption.validate(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** An I/O failure in one line naming the file: "out.gguf.tmp: No space left on device", "x: permission denied". */
    private static String describe(Exception ex) {
        Throwable io = ex instanceof UncheckedIOException u && u.getCause() instanceof FileSystemException f ? f : ex;
        if (io instanceof FileSystemException f && f.getFile() != null) {
            String reason = f.getReason() != null ? f.getReason() : switch (f) {
                case NoSuchFileException x -> "no such file or directory";
                case AccessDeniedException x -> "permission denied";
                case FileAlreadyExistsException x -> "already exists";
                case NotDirectoryException x -> "not a folder";
                default -> f.getClass().getSimpleName();
            };
            return f.getFile() + ": " + reason;
        }
        return io.getMessage();
    }

    /** "moe4j 0.1.0-SNAPSHOT on Java 25+36": the Maven project version, filtered into version.properties at build time. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in == null) throw new IOException("version.properties is missing from the build");
                p.load(in);
            }
            return new String[] {"moe4j " + p.getProperty("version") + " on Java " + Runtime.version()};
        }
    }
}
