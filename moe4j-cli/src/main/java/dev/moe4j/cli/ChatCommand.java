package dev.moe4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.chat.AssistantReply;
import dev.moe4j.chat.ChatTemplates;
import dev.moe4j.chat.ReplyParser;
import dev.moe4j.generate.ChatRenderer;
import dev.moe4j.generate.ChatRequest;
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
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;

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
            int context = m.config().contextLength();
            int reserve = Math.min(sampling.maxTokens, context / 2); // room kept for the reply
            // a template error (raise_exception, a bad variable) is a one-line Moe4jException naming the template's message
            Function<List<Map<String, Object>>, String> render =
                    msgs -> template.render(new ChatRequest(msgs, List.of(), List.of(), true, false, vars));
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
                int[] prompt = fit(history, render, tok, context, reserve, out);
                if (prompt == null) continue;
                String promptText = render.apply(history);
                // harmony's message markers are special tokens its reply parser reads (as the server keeps them)
                Reply reply = new Reply(tok.streamingDecoder(template.family() != ChatTemplate.HARMONY), endTexts, out);
                int maxTokens = Math.min(sampling.maxTokens, context - prompt.length);
                Generator.Result result = new Generator(m.transformer()).generate(prompt, maxTokens, sampling.settings(),
                        stop, reply::add);
                reply.finish();
                out.println();
                if (result.stopReason().equals("context")) {
                    out.printf("(the reply reached the end of the %d-token context)%n", context);
                }
                // History keeps the answer without its reasoning, as the templates expect it back.
                AssistantReply parts = AssistantReply.parse(ReplyParser.forFamily(template.family(), promptText, false), reply.text());
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

    /** The reply as it streams: printed as it comes, cut where one of the template's end-of-turn texts appears. */
    private static final class Reply {
        private final TokenDecoder decoder;
        private final List<String> endTexts;
        private final PrintWriter out;
        private final StringBuilder text = new StringBuilder();
        private int printed;
        private boolean ended;

        Reply(TokenDecoder decoder, List<String> endTexts, PrintWriter out) {
            this.decoder = decoder;
            this.endTexts = endTexts;
            this.out = out;
        }

        boolean add(int id) {
            append(decoder.next(id));
            return !ended;
        }

        void finish() {
            if (!ended) append(decoder.flush());
        }

        private void append(String piece) {
            text.append(piece);
            for (String end : endTexts) {
                int cut = text.indexOf(end);
                if (cut >= 0) {
                    text.setLength(cut);
                    ended = true;
                }
            }
            if (text.length() > printed) {
                out.print(text.substring(printed));
                out.flush();
                printed = text.length();
            }
        }

        String text() {
            return text.toString();
        }
    }

    /**
     * The prompt for the conversation, after dropping its oldest turns (a user message and the replies after it;
     * the system message stays) until it leaves {@code reserve} tokens of the context for the reply, saying so.
     * A newest message that does not fit even alone (with the system message) is taken back, saying so, and the
     * conversation kept as it was: null is returned.
     */
    static int[] fit(List<Map<String, Object>> history, Function<List<Map<String, Object>>, String> render, Tokenizer tok,
                     int context, int reserve, PrintWriter out) {
        List<Map<String, Object>> alone = new ArrayList<>(history.stream().filter(msg -> "system".equals(msg.get("role"))).toList());
        alone.add(history.getLast());
        int aloneTokens = tok.encode(render.apply(alone), false).length;
        if (aloneTokens >= context) {
            history.removeLast();
            out.printf("(message not sent: it takes %d tokens, the context holds %d)%n", aloneTokens, context);
            return null;
        }
        int[] prompt = tok.encode(render.apply(history), false);
        int dropped = 0;
        while (prompt.length + reserve > context) {
            int first = 0;
            while (first < history.size() && "system".equals(history.get(first).get("role"))) first++;
            int next = first + 1;
            while (next < history.size() && !"user".equals(history.get(next).get("role"))) next++;
            if (next >= history.size()) break; // only the newest message is left
            history.subList(first, next).clear();
            dropped += next - first;
            prompt = tok.encode(render.apply(history), false);
        }
        if (dropped > 0) {
            out.printf("(context full: dropped the %d oldest message%s to fit the %d-token context)%n", dropped,
                    dropped == 1 ? "" : "s", context);
        }
        return prompt;
    }
}
