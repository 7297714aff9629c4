package dev.moe4j.cli;

import dev.moe4j.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text as a JSON array.")
final class TokenizeCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;
    @Spec CommandSpec spec;

    @Option(names = "--text", required = true, description = "The text to tokenize.")
    String text;

    @Option(names = "--no-special", description = "Add no BOS/EOS tokens (special-token strings in the text are still matched).")
    boolean noSpecial;

    @Override
    public Integer call() {
        try (Model m = opts.open()) {
            spec.commandLine().getOut().println(Ids.toJson(m.tokenizer().encode(text, !noSpecial)));
        }
        return 0;
    }
}
