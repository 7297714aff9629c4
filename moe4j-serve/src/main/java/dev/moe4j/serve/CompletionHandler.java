package dev.moe4j.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.chat.ChatTemplates;
import dev.moe4j.generate.SamplerSettings;
import dev.moe4j.model.Model;
import dev.moe4j.tokenizer.Tokenizer;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** POST /v1/chat/completions and POST /v1/completions: tokenise, queue on the engine, answer whole or as SSE. */
final class CompletionHandler {
    /** How long a stream may stay silent before a keep-alive comment (which also detects gone clients). */
    private static final long HEARTBEAT_MILLIS = 1_000;
    /** The status counted in metrics for a request whose client left before its answer (nginx's 499). */
    private static final int CLIENT_CLOSED_REQUEST = 499;

    private final Model model;
    private final Engine engine;
    private final String modelId;
    private final ChatTemplates templates;
    private final RequestBody body;
    private final ClientWatch clients;
    private final ReplyScript script;   // null except in tests that script the model's replies

    CompletionHandler(Model model, Engine engine, String modelId, RequestBody body, ClientWatch clients, ReplyScript script) {
        this.model = model;
        this.engine = engine;
        this.modelId = modelId;
        this.templates = ChatTemplates.of(model, java.time.Clock.systemDefaultZone());
        this.body = body;
        this.clients = clients;
        this.script = script;
    }

    void chat(Context ctx) throws Exception {
        GenerationRequest r = GenerationRequest.chat(body.json(ctx));
        checkModel(r);
        ChatTurn turn = ChatTurn.start(templates, r.chat());
        Tokenizer tok = model.tokenizer();
        int[] prompt = tok.encode(turn.prompt(), false);
        Set<Integer> stopTokens = stopTokens(tok);
        List<String> stops = new ArrayList<>(r.stop());
        for (String end : turn.endsOfTurn()) {
            Integer id = tok.specialTokens().get(end);
            if (id != null) stopTokens.add(id);
            stops.add(end);
        }
        Sequence seq = sequence(r, prompt, stopTokens, stops, true);
        if (script != null) seq.script(tok.encode(script.reply(turn.prompt()), false));
        run(ctx, r, seq, turn);
    }

    void completion(Context ctx) throws Exception {
        GenerationRequest r = GenerationRequest.completion(body.json(ctx));
        checkModel(r);
        Tokenizer tok = model.tokenizer();
        run(ctx, r, sequence(r, tok.encode(r.prompt(), true), stopTokens(tok), r.stop(), false), null);
    }

    private void checkModel(GenerationRequest r) {
        if (!r.model().equals(modelId)) {
            throw new ApiException(404, "invalid_request_error", "model_not_found", "model",
                    "the model '" + r.model() + "' does not exist; this server serves '" + modelId + "'");
        }
    }

    private Set<Integer> stopTokens(Tokenizer tok) {
        Set<Integer> s = new HashSet<>();
        if (tok.eosId() >= 0) s.add(tok.eosId());
        return s;
    }

    /** The sequence to generate, after checking that prompt and max_tokens fit the context. */
    private Sequence sequence(GenerationRequest r, int[] prompt, Set<Integer> stopTokens, List<String> stops, boolean chat) {
        int context = model.config().contextLength();
        if (prompt.length == 0) throw ApiException.badRequest(chat ? "messages" : "prompt", "the prompt is empty");
        int max = r.maxTokens() != null ? r.maxTokens() : context - prompt.length;
        if (max < 1 || max > context - prompt.length) { // not prompt.length + max: that overflows for max near 2^31
            throw new ApiException(400, "invalid_request_error", "context_length_exceeded", chat ? "messages" : "prompt",
                    "this model's context is " + context + " tokens, but the prompt has " + prompt.length
                            + " tokens and max_tokens asks for " + max + " more");
        }
        long seed = r.seed() != null ? r.seed() : System.nanoTime();
        SamplerSettings sampling = new SamplerSettings(r.temperature(), 0, r.topP(), 0f, 1f, 64, seed);
        return new Sequence(prompt, max, sampling, stopTokens, stops);
    }

    /** Queues the sequence and answers, whole or streamed; {@code turn} is null for text completions. */
    private void run(Context ctx, GenerationRequest r, Sequence seq, ChatTurn turn) throws Exception {
        boolean chat = turn != null;
        try {
            engine.submit(seq);
        } catch (Engine.OverloadedException e) {
            throw new ApiException(429, "rate_limit_exceeded", "server_busy", null, e.getMessage()); // with Retry-After
        }
        Shape shape = new Shape(chat, (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, modelId);
        // A client that leaves, streaming or not, stops its generation at once.
        try (ClientWatch.Watch watch = clients.watch(ctx, seq::cancel)) {
            if (r.stream()) stream(ctx, seq, shape, r.includeUsage(), turn);
            else whole(ctx, seq, shape, turn);
        } finally {
            seq.cancel(); // no-op when finished; frees the slot when we leave early
        }
    }

    private void whole(Context ctx, Sequence seq, Shape shape, ChatTurn turn) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        while (true) {
            Sequence.Event e = seq.next(HEARTBEAT_MILLIS);
            switch (e) {
                case null -> {
                    if (seq.cancelled()) { // the client left (ClientWatch): nobody to answer
                        ctx.status(CLIENT_CLOSED_REQUEST); // for the metrics only: the connection is closed unanswered
                        ClientWatch.hangUp(ctx);
                        return;
                    }
                }
                case Sequence.Text t -> text.append(t.text());
                case Sequence.Failed f -> throw new ApiException(500, "server_error", null, null, f.message());
                case Sequence.Done d -> {
                    ObjectNode answer = turn == null ? shape.whole(text.toString(), d) : turn.whole(shape, text.toString(), d);
                    ctx.contentType("application/json").result(Json.write(answer));
                    return;
                }
            }
        }
    }

    private void stream(Context ctx, Sequence seq, Shape shape, boolean includeUsage, ChatTurn turn) throws InterruptedException {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        try {
            OutputStream out = ctx.res().getOutputStream();
            if (shape.chat()) send(out, shape.chunk("", true, null));
            ChatTurn.Stream parts = turn == null ? null : turn.new Stream(shape, chunk -> send(out, chunk));
            while (true) {
                Sequence.Event e = seq.next(HEARTBEAT_MILLIS);
                switch (e) {
                    case null -> {
                        if (seq.cancelled()) return; // the client left (ClientWatch)
                        write(out, ": keep-alive\n\n");
                    }
                    case Sequence.Text t -> {
                        if (parts == null) send(out, shape.chunk(t.text(), false, null));
                        else parts.push(t.text());
                    }
                    case Sequence.Failed f -> {
                        ApiException err = new ApiException(500, "server_error", null, null, f.message());
                        write(out, "data: " + Json.write(Json.error(err)) + "\n\n");
                        return;
                    }
                    case Sequence.Done d -> {
                        String reason = parts == null ? d.finishReason() : parts.finish(d.finishReason());
                        send(out, shape.chunk("", false, reason));
                        if (includeUsage) send(out, shape.usageChunk(d));
                        write(out, "data: [DONE]\n\n");
                        return;
                    }
                }
            }
        } catch (IOException | java.io.UncheckedIOException gone) {
            seq.cancel(); // the client went away: stop generating and free the slot
        }
    }

    private static void send(OutputStream out, ObjectNode chunk) throws IOException {
        write(out, "data: " + Json.write(chunk) + "\n\n");
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The JSON shapes of one response, chat or text completion. */
    record Shape(boolean chat, String id, long created, String model) {
        ObjectNode whole(String text, Sequence.Done d) {
            ObjectNode choice = Json.object();
            choice.put("index", 0);
            if (chat) {
                ObjectNode msg = choice.putObject("message");
                msg.put("role", "assistant");
                msg.put("content", text);
                msg.putNull("refusal");
            } else {
                choice.put("text", text);
            }
            choice.putNull("logprobs");
            choice.put("finish_reason", d.finishReason());
            ObjectNode root = head(chat ? "chat.completion" : "text_completion");
            root.putArray("choices").add(choice);
            root.set("usage", Json.usage(d.promptTokens(), d.completionTokens()));
            return root;
        }

        ObjectNode chunk(String text, boolean first, String finishReason) {
            ObjectNode choice = Json.object();
            choice.put("index", 0);
            if (chat) {
                ObjectNode delta = choice.putObject("delta");
                if (first) delta.put("role", "assistant");
                if (finishReason == null) delta.put("content", text);
            } else {
                choice.put("text", text);
            }
            choice.putNull("logprobs");
            choice.put("finish_reason", finishReason);
            ObjectNode root = head(chat ? "chat.completion.chunk" : "text_completion");
            root.putArray("choices").add(choice);
            return root;
        }

        ObjectNode usageChunk(Sequence.Done d) {
            ObjectNode root = head(chat ? "chat.completion.chunk" : "text_completion");
            root.putArray("choices");
            root.set("usage", Json.usage(d.promptTokens(), d.completionTokens()));
            return root;
        }

        private ObjectNode head(String object) {
            ObjectNode root = Json.object();
            root.put("id", id);
            root.put("object", object);
            root.put("created", created);
            root.put("model", model);
            return root;
        }
    }
}
