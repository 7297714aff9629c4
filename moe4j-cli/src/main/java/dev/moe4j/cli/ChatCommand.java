package dev.moe4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.chat.AssistantReply;
import dev.moe4j.chat.ChatTemplates;
import dev.moe4j.chat.ReplyParser;
import dev.moe4j.generate.ChatRenderer;
import dev.moe4j.generate.ChatRequest;
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
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model on the terminal, through its own (Jinja) chat template when it has one.",
                "Type a message and press Enter; /reset starts over, /exit (or end of input) quits."})
final class ChatCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin ModelOptions opts;
    @Mixin SamplingOptions sampling;
    @Spec CommandSpec spec;

    @Option(names = "--system", description = "A system message to start the conversation with.")
    String system;

    @Option(names = "--template-var", paramLabel = "NAME=VALUE",
            description = "A variable for the chat template, e.g. enable_thinking=false or reasoning_effort=high "
                    + "(VALUE is read as JSON when it is JSON, else as a string). Repeatable.")
    List<String> templateVars = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> vars = templateVariables();
        try (Model m = opts.open()) {
            Tokenizer tok = m.tokenizer();
            ChatTemplates templates = ChatTemplates.of(m, Clock.systemDefaultZone());
            ChatRenderer template = templates.select(false);
            out.printf("moe4j chat: %s, %s template. /reset starts over, /exit quits.%n", m.config().architecture().hfModelType,
                    templates.fromCheckpoint() ? "the checkpoint's (" + template.family().name().toLowerCase() + ")" : "a plain transcript");
            List<Map<String, Object>> history = new ArrayList<>();
            if (system != null) history.add(message("system", system));
            Set<Integer> stop = new HashSet<>();
            if (tok.eosId() >= 0) stop.add(tok.eosId());
            List<String> endTexts = template.family().endsOfTurn();
            for (String end : endTexts) {
                Integer id = tok.specialTokens().get(end);
                if (id != null) stop.add(id);
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) break;
                if (line.strip().equals("/reset")) {
                    history.removeIf(msg -> !msg.get("role").equals("system"));
                    out.println("(conversation cleared)");
                    continue;
                }
                if (line.isBlank()) continue;
                history.add(message("user", line));
                // a template error (raise_exception, a bad variable) is a one-line Moe4jException naming the template's message
                String promptText = template.render(new ChatRequest(history, List.of(), List.of(), true, false, vars));
                int[] prompt = tok.encode(promptText, false);
                TokenDecoder decoder = tok.streamingDecoder();
                StringBuilder reply = new StringBuilder();
                new Generator(m.transformer()).generate(prompt, sampling.maxTokens, sampling.settings(), stop, id -> {
                    String piece = decoder.next(id);
                    reply.append(piece);
                    for (String end : endTexts) {
                        int cut = reply.indexOf(end);
                        if (cut >= 0) {
                            reply.setLength(cut);
                            return false;
                        }
                    }
                    out.print(piece);
                    out.flush();
                    return true;
                });
                out.println();
                // History keeps the answer without its reasoning, as the templates expect it back.
                AssistantReply parts = AssistantReply.parse(ReplyParser.forFamily(template.family(), promptText, false), reply.toString());
                Map<String, Object> answer = message("assistant", parts.content().strip());
                if (!parts.reasoning().isEmpty()) answer.put("reasoning_content", parts.reasoning().strip());
                history.add(answer);
            }
        }
        return 0;
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    /** --template-var NAME=VALUE pairs; a malformed one is an IllegalArgumentException naming the option. */
    private Map<String, Object> templateVariables() {
        Map<String, Object> vars = new LinkedHashMap<>();
        for (String kv : templateVars) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("invalid --template-var: '" + kv + "' (expected NAME=VALUE)");
            String value = kv.substring(eq + 1);
            Object parsed;
            try {
                parsed = JSON.readValue(value, Object.class);
            } catch (IOException notJson) {
                parsed = value;
            }
            vars.put(kv.substring(0, eq), parsed);
        }
        return vars;
    }
}
