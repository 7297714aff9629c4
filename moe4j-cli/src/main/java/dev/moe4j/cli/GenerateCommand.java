package dev.moe4j.cli;

import dev.moe4j.constrain.TokenConstraint;
import dev.moe4j.generate.Generator;
import dev.moe4j.model.Model;
import dev.moe4j.tokenizer.TokenDecoder;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt, streaming the text as it is generated.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;
    @Mixin SamplingOptions sampling;
    @Spec CommandSpec spec;

    static final class Input {
        @Option(names = "--prompt", required = true, description = "Prompt text (BOS is added where the model's tokenizer adds one).")
        String prompt;

        @Option(names = "--ids", required = true, paramLabel = "1,2,3", description = "Prompt as token ids, used as given.")
        String ids;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--print-ids", description = "Print only the generated token ids, as a JSON array, instead of the text.")
    boolean printIds;

    static final class Structure {
        @Option(names = "--json", description = "Constrain the output to one JSON object (as response_format json_object).")
        boolean json;

        @Option(names = "--json-schema", paramLabel = "FILE", description = "Constrain the output to a JSON value valid against the JSON schema in FILE.")
        java.nio.file.Path schema;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Structure structure;

    @Option(names = "--stats", description = "Print prompt and generation speed to stderr at the end.")
    boolean stats;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = opts.open()) {
            int[] prompt = input.ids != null ? Ids.parse(input.ids) : m.tokenizer().encode(input.prompt, true);
            Set<Integer> stop = new HashSet<>();
            if (m.hasTokenizer() && m.tokenizer().eosId() >= 0) stop.add(m.tokenizer().eosId());
            TokenDecoder decoder = !printIds ? m.tokenizer().streamingDecoder() : null;
            TokenConstraint constraint = structure == null ? null : JsonConstraints.of(structure.json, structure.schema, m.tokenizer(), stop);
            Generator.Result r = new Generator(m.transformer()).generate(prompt, sampling.maxTokens, sampling.settings(), stop, id -> {
                if (decoder != null) {
                    out.print(decoder.next(id));
                    out.flush();
                }
                return true;
            }, constraint);
            if (decoder != null) out.println(decoder.flush());
            else out.println(Ids.toJson(r.tokens()));
            if (stats) {
                spec.commandLine().getErr().printf("prompt: %d tokens in %.3f s (%.1f tok/s); generated: %d tokens in %.3f s (%.1f tok/s); stop: %s%n",
                        r.promptTokens(), r.prefillSeconds(), r.promptTokens() / r.prefillSeconds(), r.tokens().size(),
                        r.decodeSeconds(), r.tokens().size() / Math.max(1e-9, r.decodeSeconds()), r.stopReason());
            }
        }
        return 0;
    }
}
