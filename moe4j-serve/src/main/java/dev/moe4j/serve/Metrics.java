package dev.moe4j.serve;

import dev.moe4j.moe.RoutingPlan;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntSupplier;

/** Counters the server exposes at {@code GET /metrics}, in the Prometheus text format. Thread-safe. */
public final class Metrics {
    private final int layers, experts;
    private final AtomicLongArray expertTokens;              // [layer * experts + expert]
    private final Map<String, AtomicLong> requests = new TreeMap<>();
    private final AtomicLong promptTokens = new AtomicLong(), completionTokens = new AtomicLong();
    private final AtomicLong prefillNanos = new AtomicLong(), decodeNanos = new AtomicLong();
    private final AtomicLong decodeSteps = new AtomicLong(), decodeRows = new AtomicLong(), cancelled = new AtomicLong();
    private final AtomicLong readTimeouts = new AtomicLong();
    private volatile IntSupplier queueDepth = () -> 0, active = () -> 0, connections = () -> 0;

    public Metrics(int layers, int experts) {
        this.layers = layers;
        this.experts = experts;
        this.expertTokens = new AtomicLongArray(layers * experts);
    }

    void gauges(IntSupplier queueDepth, IntSupplier active) {
        this.queueDepth = queueDepth;
        this.active = active;
    }

    void connectionGauge(IntSupplier open) { this.connections = open; }

    void routed(int layer, RoutingPlan plan) {
        for (int e = 0; e < experts && e < plan.experts(); e++) {
            int n = plan.load(e);
            if (n > 0) expertTokens.addAndGet(layer * experts + e, n);
        }
    }

    void prompt(int tokens, long nanos) {
        promptTokens.addAndGet(tokens);
        prefillNanos.addAndGet(nanos);
    }

    void decodeStep(int rows, long nanos) {
        decodeSteps.incrementAndGet();
        decodeRows.addAndGet(rows);
        decodeNanos.addAndGet(nanos);
    }

    void generated(int tokens) { completionTokens.addAndGet(tokens); }

    void cancelled() { cancelled.incrementAndGet(); }

    void readTimeout() { readTimeouts.incrementAndGet(); }

    void request(String endpoint, int status) {
        String key = "endpoint=\"" + endpoint + "\",status=\"" + status + "\"";
        synchronized (requests) {
            requests.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
        }
    }

    public long expertTokens(int layer, int expert) { return expertTokens.get(layer * experts + expert); }

    /** The Prometheus text exposition of every counter. */
    public String render() {
        StringBuilder b = new StringBuilder();
        head(b, "moe4j_requests_total", "counter", "HTTP requests by endpoint and status");
        synchronized (requests) {
            requests.forEach((k, v) -> b.append("moe4j_requests_total{").append(k).append("} ").append(v.get()).append('\n'));
        }
        metric(b, "moe4j_prompt_tokens_total", "counter", "Prompt tokens prefilled", promptTokens.get());
        metric(b, "moe4j_completion_tokens_total", "counter", "Tokens generated", completionTokens.get());
        metric(b, "moe4j_prefill_seconds_total", "counter", "Time spent prefilling prompts", prefillNanos.get() / 1e9);
        metric(b, "moe4j_decode_seconds_total", "counter", "Time spent in batched decode steps", decodeNanos.get() / 1e9);
        metric(b, "moe4j_decode_steps_total", "counter", "Batched decode steps", decodeSteps.get());
        metric(b, "moe4j_decode_rows_total", "counter", "Sequences summed over decode steps (rows / steps = mean batch size)", decodeRows.get());
        double secs = decodeNanos.get() / 1e9;
        metric(b, "moe4j_decode_tokens_per_second", "gauge", "Decode throughput while decoding: decode rows / decode seconds",
                secs > 0 ? decodeRows.get() / secs : 0);
        metric(b, "moe4j_cancelled_total", "counter", "Sequences dropped because the client went away", cancelled.get());
        metric(b, "moe4j_read_timeouts_total", "counter", "Connections closed because a request's headers or body came too slowly",
                readTimeouts.get());
        metric(b, "moe4j_open_connections", "gauge", "HTTP connections open now (at most --max-connections)", connections.getAsInt());
        metric(b, "moe4j_queue_depth", "gauge", "Requests waiting for a slot", queueDepth.getAsInt());
        metric(b, "moe4j_active_sequences", "gauge", "Sequences being generated", active.getAsInt());
        head(b, "moe4j_expert_tokens_total", "counter", "Tokens each routed expert of each MoE layer has processed (prefill and decode)");
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < experts; e++) {
                b.append("moe4j_expert_tokens_total{layer=\"").append(l).append("\",expert=\"").append(e).append("\"} ")
                        .append(expertTokens(l, e)).append('\n');
            }
        }
        return b.toString();
    }

    private static void head(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void metric(StringBuilder b, String name, String type, String help, double value) {
        head(b, name, type, help);
        b.append(name).append(' ');
        if (value == Math.rint(value) && Math.abs(value) < 1e15) b.append((long) value);
        else b.append(value);
        b.append('\n');
    }
}
