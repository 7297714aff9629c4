package dev.moe4j.cli;

import dev.moe4j.util.Moe4jException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** The {@code moe4j} command. */
@Command(name = "moe4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Mixture-of-Experts for the JVM: train MoE models, run and serve MoE checkpoints (GGUF or Hugging Face folders), benchmark and quantise them.",
        subcommands = {DemoCommand.class, TrainCommand.class, InfoCommand.class, TokenizeCommand.class, LogitsCommand.class,
                GenerateCommand.class, ChatCommand.class, ServeCommand.class, SynthCommand.class, BenchCommand.class, QuantizeCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    /** Exit code for bad input: a bad file, a bad argument. */
    public static final int EXIT_BAD_INPUT = 2;

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
            if (verbose) ex.printStackTrace(err);
            if (ex instanceof Moe4jException || ex instanceof IllegalArgumentException) {
                err.println("moe4j: error: " + ex.getMessage());
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

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"moe4j " + (v == null ? "dev" : v) + " on Java " + Runtime.version()};
        }
    }
}
