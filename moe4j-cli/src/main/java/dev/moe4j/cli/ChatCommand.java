package dev.moe4j.cli;

import dev.moe4j.generate.ChatTemplate;
import dev.moe4j.generate.Generator;
import dev.moe4j.model.Model;
import dev.moe4j.tokenizer.TokenDecoder;
import dev.moe4j.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model on the terminal, using its chat template when it has one.",
                "Type a message and press Enter; /reset starts over, /exit (or end of input) quits."})
final class ChatCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;
    @Mixin SamplingOptions sampling;
    @Spec CommandSpec spec;

    @Option(names = "--system", description = "A system message to start the conversation with.")
    String system;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = opts.open()) {
            Tokenizer tok = m.tokenizer();
            ChatTemplate template = ChatTemplate.detect(m.chatTemplate());
            out.printf("moe4j chat: %s, %s template. /reset starts over, /exit quits.%n", m.config().architecture().hfModelType,
                    template.name().toLowerCase());
            List<ChatTemplate.Message> history = new ArrayList<>();
            if (system != null) history.add(new ChatTemplate.Message("system", system));
            Set<Integer> stop = new HashSet<>();
            if (tok.eosId() >= 0) stop.add(tok.eosId());
            Integer endOfTurn = tok.specialTokens().get(template.endOfTurn());
            if (endOfTurn != null) stop.add(endOfTurn);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) break;
                if (line.strip().equals("/reset")) {
                    history.removeIf(msg -> !msg.role().equals("system"));
                    out.println("(conversation cleared)");
                    continue;
                }
                if (line.isBlank()) continue;
                history.add(new ChatTemplate.Message("user", line));
                String bos = tok.bosId() >= 0 ? tok.tokenText(tok.bosId()) : null;
                int[] prompt = tok.encode(template.render(history, bos), false);
                TokenDecoder decoder = tok.streamingDecoder();
                StringBuilder reply = new StringBuilder();
                String endText = template.endOfTurn();
                new Generator(m.transformer()).generate(prompt, sampling.maxTokens, sampling.settings(), stop, id -> {
                    String piece = decoder.next(id);
                    reply.append(piece);
                    int cut = reply.indexOf(endText);
                    if (cut >= 0) {
                        reply.setLength(cut);
                        return false;
                    }
                    out.print(piece);
                    out.flush();
                    return true;
                });
                out.println();
                history.add(new ChatTemplate.Message("assistant", reply.toString().strip()));
            }
        }
        return 0;
    }
}
