package dev.moe4j.cli;

import dev.moe4j.kernel.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Checks {@code --threads} of whichever command was given, before the command runs, so every command that
 * has the option (model commands, synth, quantize, train, demo, serve) refuses 0 or 100000 in the same words.
 */
final class ThreadsOption {
    static final String NAME = "--threads";

    private ThreadsOption() {}

    /** @throws CommandLine.ParameterException if a {@code --threads} value is outside 1..{@link Parallel#maxThreads()} */
    static void validate(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            OptionSpec option = p.matchedOption(NAME);
            if (option == null || !(option.getValue() instanceof Integer n)) continue;
            String problem = n < 1 ? "must be at least 1"
                    : n > Parallel.maxThreads() ? "is more than " + Parallel.maxThreads() + " (4 per processor, "
                            + Runtime.getRuntime().availableProcessors() + " available)"
                    : null;
            if (problem != null) throw new CommandLine.ParameterException(p.commandSpec().commandLine(), NAME + ": " + n + " " + problem);
        }
    }
}
