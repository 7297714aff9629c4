package dev.moe4j.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.constrain.TokenConstraint;
import dev.moe4j.constrain.TokenTrie;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

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
    private final LogprobsJson logprobs;
    private final ReplyScript script;   // null except in tests that script the model's replies

    CompletionHandler(Model model, Engine engine, String modelId, RequestBody body, ClientWatch clients, ReplyScript script) {
        this.model = model;
        this.engine = engine;
        this.modelId = modelId;
        this.templates = ChatTemplates.of(model, java.time.Clock.systemDefaultZone());
        this.body = body;
        this.clients = clients;
        this.logprobs = new LogprobsJson(model.tokenizer());
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
        int[] scripted = script == null ? null : tok.encode(script.reply(turn.prompt()), false);
        run(ctx, r, prompt, stopTokens, stops, turn, scripted);
    }

    void completion(Context ctx) throws Exception {
        GenerationRequest r = GenerationRequest.completion(body.json(ctx));
        checkModel(r);
        Tokenizer tok = model.tokenizer();
        run(ctx, r, tok.encode(r.prompt(), true), stopTokens(tok), r.stop(), null, null);
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

    /**
     * Checks that prompt and max_tokens fit the context, queues one sequence per choice and answers, whole or
     * streamed. {@code turn} is null for text completions; {@code scripted} is a test's scripted reply (ReplyScript).
     */
    private void run(Context ctx, GenerationRequest r, int[] prompt, Set<Integer> stopTokens, List<String> stops,
                     ChatTurn turn, int[] scripted) throws Exception {
        boolean chat = turn != null;
        int context = model.config().contextLength();
        if (prompt.length == 0) throw ApiException.badRequest(chat ? "messages" : "prompt", "the prompt is empty");
        int max = r.maxTokens() != null ? r.maxTokens() : context - prompt.length;
        if (max < 1 || max > context - prompt.length) { // not prompt.length + max: that overflows for max near 2^31
            throw new ApiException(400, "invalid_request_error", "context_length_exceeded", chat ? "messages" : "prompt",
                    "this model's context is " + context + " tokens, but the prompt has " + prompt.length
                            + " tokens and max_tokens asks for " + max + " more");
        }
        SamplingFields f = r.sampling();
        f.checkVocabulary(model.config().vocabSize());
        if (f.n() > engine.capacity()) {
            throw ApiException.badRequest("n", "'n' is " + f.n() + " but this server runs at most " + engine.capacity()
                    + " sequences at once (--max-concurrent plus --max-queue)");
        }
        long seed = r.seed() != null ? r.seed() : System.nanoTime();
        SamplerSettings sampling = new SamplerSettings(r.temperature(), f.topK(), r.topP(), f.minP(), f.repetitionPenalty(), 64, seed)
                .withPenalties(f.presencePenalty(), f.frequencyPenalty()).withLogitBias(f.logitBias());
        TokenConstraint first = constraint(f.responseFormat(), stopTokens);
        BlockingQueue<Sequence> ready = new LinkedBlockingQueue<>();
        List<Sequence> seqs = new ArrayList<>();
        for (int i = 0; i < f.n(); i++) {   // choice i draws with seed + i: choice 0 is what n = 1 gives
            TokenConstraint c = first == null ? null : i == 0 ? first : first.another();
            seqs.add(new Sequence(prompt, max, sampling.withSeed(seed + i), stopTokens, stops,
                    new Sequence.Decoding(c, f.topLogprobs(), i, ready)));
            if (scripted != null) seqs.getLast().script(scripted);
            if (chat) seqs.getLast().keepSpecialTokens = turn.readsSpecialTokens();
        }
        List<ChatTurn> turns = new ArrayList<>();   // one reply parser per choice
        for (int i = 0; chat && i < seqs.size(); i++) turns.add(i == 0 ? turn : turn.another());
        try {
            for (Sequence seq : seqs) engine.submit(seq);
        } catch (Engine.OverloadedException e) {
            seqs.forEach(Sequence::cancel);
            throw new ApiException(429, "rate_limit_exceeded", "server_busy", null, e.getMessage()); // with Retry-After
        }
        Shape shape = new Shape(chat, (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, modelId, f.topLogprobs() >= 0 ? logprobs : null);
        // A client that leaves, streaming or not, stops its generation at once.
        try (ClientWatch.Watch watch = clients.watch(ctx, () -> seqs.forEach(Sequence::cancel))) {
            if (r.stream()) stream(ctx, seqs, ready, shape, r.includeUsage(), turns);
            else whole(ctx, seqs, ready, shape, turns);
        } finally {
            seqs.forEach(Sequence::cancel); // no-op when finished; frees the slots when we leave early
        }
    }

    /** The constraint of a response format (null for text); end tokens are allowed once the value is complete. */
    private TokenConstraint constraint(ResponseFormat format, Set<Integer> stopTokens) {
        if (format.grammar() == null) return null;
        int[] ends = stopTokens.stream().mapToInt(Integer::intValue).toArray();
        return new TokenConstraint(format.grammar(), TokenTrie.of(model.tokenizer()), ends);
    }

    /** Collects every choice and answers once; {@code turns} (chat only, else empty) parse each reply. */
    private void whole(Context ctx, List<Sequence> seqs, BlockingQueue<Sequence> ready, Shape shape, List<ChatTurn> turns)
            throws InterruptedException {
        int n = seqs.size();
        StringBuilder[] texts = new StringBuilder[n];
        List<List<Sequence.TokenLogprob>> logprobs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            texts[i] = new StringBuilder();
            logprobs.add(new ArrayList<>());
        }
        Sequence.Done[] done = new Sequence.Done[n];
        for (int left = n; left > 0; ) {
            Sequence s = ready.poll(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
            if (s == null) {
                if (seqs.get(0).cancelled()) { // the client left (ClientWatch): nobody to answer
                    ctx.status(CLIENT_CLOSED_REQUEST); // for the metrics only: the connection is closed unanswered
                    ClientWatch.hangUp(ctx);
                    return;
                }
                continue;
            }
            switch (s.next(0)) {
                case null -> { }
                case Sequence.Text t -> {
                    texts[s.index()].append(t.text());
                    logprobs.get(s.index()).addAll(t.logprobs());
                }
                case Sequence.Failed f -> throw new ApiException(500, "server_error", null, null, f.message());
                case Sequence.Done d -> {
                    done[s.index()] = d;
                    left--;
                }
            }
        }
        ObjectNode answer = shape.whole(texts, logprobs, done);
        for (int i = 0; i < turns.size(); i++) turns.get(i).complete((ObjectNode) answer.get("choices").get(i), texts[i].toString());
        ctx.contentType("application/json").result(Json.write(answer));
    }

    /** Streams every choice's chunks as they come; {@code turns} (chat only, else empty) parse each reply. */
    private void stream(Context ctx, List<Sequence> seqs, BlockingQueue<Sequence> ready, Shape shape, boolean includeUsage,
                        List<ChatTurn> turns) throws InterruptedException {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        int n = seqs.size();
        int[] textOffsets = new int[n];
        Sequence.Done[] done = new Sequence.Done[n];
        try {
            OutputStream out = ctx.res().getOutputStream();
            if (shape.chat()) for (int i = 0; i < n; i++) send(out, shape.chunk(i, "", true, null, null, 0));
            List<ChatTurn.Stream> parts = new ArrayList<>();
            for (int i = 0; i < turns.size(); i++) parts.add(turns.get(i).new Stream(shape, i, chunk -> send(out, chunk)));
            for (int left = n; left > 0; ) {
                Sequence s = ready.poll(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
                if (s == null) {
                    if (seqs.get(0).cancelled()) return; // the client left (ClientWatch)
                    write(out, ": keep-alive\n\n");
                    continue;
                }
                int i = s.index();
                switch (s.next(0)) {
                    case null -> { }
                    case Sequence.Text t -> {
                        if (!parts.isEmpty()) {
                            parts.get(i).push(t.text(), t.logprobs());
                            continue;
                        }
                        send(out, shape.chunk(i, t.text(), false, null, t.logprobs(), textOffsets[i]));
                        if (shape.logprobs() != null) textOffsets[i] += shape.logprobs().length(t.logprobs());
                    }
                    case Sequence.Failed f -> {
                        ApiException err = new ApiException(500, "server_error", null, null, f.message());
                        write(out, "data: " + Json.write(Json.error(err)) + "\n\n");
                        return;
                    }
                    case Sequence.Done d -> {
                        String reason = parts.isEmpty() ? d.finishReason() : parts.get(i).finish(d.finishReason());
                        send(out, shape.chunk(i, "", false, reason, null, 0));
                        done[i] = d;
                        left--;
                    }
                }
            }
            if (includeUsage) send(out, shape.usageChunk(done));
            write(out, "data: [DONE]\n\n");
        } catch (IOException | java.io.UncheckedIOException gone) {
            seqs.forEach(Sequence::cancel); // the client went away: stop generating and free the slots
        }
    }

    private static void send(OutputStream out, ObjectNode chunk) throws IOException {
        write(out, "data: " + Json.write(chunk) + "\n\n");
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * The JSON shapes of one response, chat or text completion, with one choice per sequence.
     *
     * @param logprobs null when the request asked for no log-probabilities
     */
    record Shape(boolean chat, String id, long created, String model, LogprobsJson logprobs) {
        ObjectNode whole(StringBuilder[] texts, List<List<Sequence.TokenLogprob>> tokenLogprobs, Sequence.Done[] done) {
            ObjectNode root = head(chat ? "chat.completion" : "text_completion");
            ArrayNode choices = root.putArray("choices");
            int prompt = 0, completion = 0;
            for (int i = 0; i < texts.length; i++) {
                ObjectNode choice = Json.object();
                choice.put("index", i);
                if (chat) {
                    ObjectNode msg = choice.putObject("message");
                    msg.put("role", "assistant");
                    msg.put("content", texts[i].toString());
                    msg.putNull("refusal");
                } else {
                    choice.put("text", texts[i].toString());
                }
                putLogprobs(choice, tokenLogprobs.get(i), 0);
                choice.put("finish_reason", done[i].finishReason());
                choices.add(choice);
                prompt = done[i].promptTokens();
                completion += done[i].completionTokens();
            }
            root.set("usage", Json.usage(prompt, completion));
            return root;
        }

        ObjectNode chunk(int index, String text, boolean first, String finishReason, List<Sequence.TokenLogprob> tokens, int textOffset) {
            ObjectNode choice = Json.object();
            choice.put("index", index);
            if (chat) {
                ObjectNode delta = choice.putObject("delta");
                if (first) delta.put("role", "assistant");
                if (finishReason == null) delta.put("content", text);
            } else {
                choice.put("text", text);
            }
            if (tokens == null || tokens.isEmpty()) choice.putNull("logprobs");
            else putLogprobs(choice, tokens, textOffset);
            choice.put("finish_reason", finishReason);
            ObjectNode root = head(chat ? "chat.completion.chunk" : "text_completion");
            root.putArray("choices").add(choice);
            return root;
        }

        private void putLogprobs(ObjectNode choice, List<Sequence.TokenLogprob> tokens, int textOffset) {
            if (logprobs == null) choice.putNull("logprobs");
            else choice.set("logprobs", chat ? logprobs.chat(tokens) : logprobs.completion(tokens, textOffset));
        }

        ObjectNode usageChunk(Sequence.Done[] done) {
            ObjectNode root = head(chat ? "chat.completion.chunk" : "text_completion");
            root.putArray("choices");
            int completion = 0;
            for (Sequence.Done d : done) completion += d.completionTokens();
            root.set("usage", Json.usage(done[0].promptTokens(), completion));
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
