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
            int context = m.config().contextLength();
            int reserve = Math.min(sampling.maxTokens, context / 2); // room kept for the reply
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
                int[] prompt = fit(history, template, tok, context, reserve, out);
                if (prompt == null) continue;
                Reply reply = new Reply(tok.streamingDecoder(), template.endOfTurn(), out);
                int maxTokens = Math.min(sampling.maxTokens, context - prompt.length);
                Generator.Result result = new Generator(m.transformer()).generate(prompt, maxTokens, sampling.settings(),
                        stop, reply::add);
                reply.finish();
                out.println();
                if (result.stopReason().equals("context")) {
                    out.printf("(the reply reached the end of the %d-token context)%n", context);
                }
                history.add(new ChatTemplate.Message("assistant", reply.text().strip()));
            }
        }
        return 0;
    }

    /** The reply as it streams: printed as it comes, cut where the template's end-of-turn text appears. */
    private static final class Reply {
        private final TokenDecoder decoder;
        private final String endText;
        private final PrintWriter out;
        private final StringBuilder text = new StringBuilder();
        private int printed;
        private boolean ended;

        Reply(TokenDecoder decoder, String endText, PrintWriter out) {
            this.decoder = decoder;
            this.endText = endText;
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
            int cut = text.indexOf(endText);
            if (cut >= 0) {
                text.setLength(cut);
                ended = true;
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
    static int[] fit(List<ChatTemplate.Message> history, ChatTemplate template, Tokenizer tok, int context, int reserve,
                     PrintWriter out) {
        String bos = tok.bosId() >= 0 ? tok.tokenText(tok.bosId()) : null;
        List<ChatTemplate.Message> alone = new ArrayList<>(history.stream().filter(msg -> msg.role().equals("system")).toList());
        alone.add(history.getLast());
        int aloneTokens = tok.encode(template.render(alone, bos), false).length;
        if (aloneTokens >= context) {
            history.removeLast();
            out.printf("(message not sent: it takes %d tokens, the context holds %d)%n", aloneTokens, context);
            return null;
        }
        int[] prompt = tok.encode(template.render(history, bos), false);
        int dropped = 0;
        while (prompt.length + reserve > context) {
            int first = 0;
            while (first < history.size() && history.get(first).role().equals("system")) first++;
            int next = first + 1;
            while (next < history.size() && !history.get(next).role().equals("user")) next++;
            if (next >= history.size()) break; // only the newest message is left
            history.subList(first, next).clear();
            dropped += next - first;
            prompt = tok.encode(template.render(history, bos), false);
        }
        if (dropped > 0) {
            out.printf("(context full: dropped the %d oldest message%s to fit the %d-token context)%n", dropped,
                    dropped == 1 ? "" : "s", context);
        }
        return prompt;
    }
}
