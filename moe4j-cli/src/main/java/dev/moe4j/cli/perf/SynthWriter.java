package dev.moe4j.cli.perf;

import dev.moe4j.format.gguf.GgufType;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.model.GgufConfigWriter;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.LongConsumer;

/**
 * Writes a random-weight GGUF with a {@link SynthShape}, in llama.cpp's tensor names and metadata keys, so
 * both llama.cpp and moe4j load it. Weights are uniform with standard deviation 0.02 (a typical
 * initialisation), norms are ones; tensors are generated and quantised chunk by chunk while streaming,
 * in parallel, and depend only on the seed (not on the thread count).
 */
public final class SynthWriter {
    private static final float AMPLITUDE = (float) (0.02 * Math.sqrt(3));
    private static final int CHUNK = 1 << 16; // values per generated piece, a multiple of every block size

    private final SynthShape s;
    private final DType type;
    private final long seed;
    private final GgufWriter w = new GgufWriter();
    private long totalBytes;
    private Progress progress;

    public SynthWriter(SynthShape shape, DType type, long seed) {
        this.s = shape;
        this.type = type;
        this.seed = seed;
    }

    /**
     * Writes the file to {@code out}, a progress bar to {@code err}.
     *
     * @param beforeWriting gets the tensors' size in bytes before anything is written; may throw to refuse
     * @param eachStep      runs at every progress step; may throw to stop (the unfinished file is removed)
     */
    public void write(Path out, PrintWriter err, LongConsumer beforeWriting, Runnable eachStep) {
        metadata();
        tensors();
        beforeWriting.accept(totalBytes);
        progress = new Progress(err, "synth " + s.name() + " " + type.name().toLowerCase(), totalBytes, eachStep);
        w.write(out);
        progress.finish();
    }

    private void metadata() {
        w.alignment(32);
        GgufConfigWriter.write(s.toConfig(), "moe4j synth " + s.name(), w);
        ByteLevelVocab v = ByteLevelVocab.ofSize(s.vocab());
        w.putString("tokenizer.ggml.model", "gpt2");
        w.putString("tokenizer.ggml.pre", "gpt-2");
        w.putArray("tokenizer.ggml.tokens", GgufType.STRING, v.tokens());
        w.putArray("tokenizer.ggml.token_type", GgufType.INT32, v.types());
        w.putArray("tokenizer.ggml.merges", GgufType.STRING, v.merges());
        w.putUInt32("tokenizer.ggml.bos_token_id", v.eos());
        w.putUInt32("tokenizer.ggml.eos_token_id", v.eos());
    }

    private void tensors() {
        if (s.slidingWindow() > 0) {
            gptOssTensors();
            return;
        }
        int d = s.hidden(), f = s.expertFfn(), e = s.experts();
        weight("token_embd.weight", s.vocab(), d);
        ones("output_norm.weight", d);
        weight("output.weight", s.vocab(), d);
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            ones(b + "attn_norm.weight", d);
            weight(b + "attn_q.weight", s.qDim(), d);
            weight(b + "attn_k.weight", s.kvDim(), d);
            weight(b + "attn_v.weight", s.kvDim(), d);
            weight(b + "attn_output.weight", d, s.qDim());
            switch (s.qkNorm()) {
                case "whole" -> { ones(b + "attn_q_norm.weight", s.qDim()); ones(b + "attn_k_norm.weight", s.kvDim()); }
                case "per-head" -> { ones(b + "attn_q_norm.weight", s.headDim()); ones(b + "attn_k_norm.weight", s.headDim()); }
                default -> { }
            }
            ones(b + "ffn_norm.weight", d);
            random(b + "ffn_gate_inp.weight", DType.F32, e, d);   // routers stay F32, as llama-quantize leaves them
            weight(b + "ffn_gate_exps.weight", e, f, d);
            weight(b + "ffn_up_exps.weight", e, f, d);
            weight(b + "ffn_down_exps.weight", e, d, f);
        }
    }

    /** gpt-oss in llama.cpp's {@code gpt-oss} layout: biased attention with sinks, a biased router, biased experts. */
    private void gptOssTensors() {
        int d = s.hidden(), f = s.expertFfn(), e = s.experts();
        weight("token_embd.weight", s.vocab(), d);
        ones("output_norm.weight", d);
        weight("output.weight", s.vocab(), d);
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            ones(b + "attn_norm.weight", d);
            weight(b + "attn_q.weight", s.qDim(), d);
            random(b + "attn_q.bias", DType.F32, s.qDim());
            weight(b + "attn_k.weight", s.kvDim(), d);
            random(b + "attn_k.bias", DType.F32, s.kvDim());
            weight(b + "attn_v.weight", s.kvDim(), d);
            random(b + "attn_v.bias", DType.F32, s.kvDim());
            weight(b + "attn_output.weight", d, s.qDim());
            random(b + "attn_output.bias", DType.F32, d);
            random(b + "attn_sinks.weight", DType.F32, s.heads());
            ones(b + "post_attention_norm.weight", d);
            random(b + "ffn_gate_inp.weight", DType.F32, e, d);
            random(b + "ffn_gate_inp.bias", DType.F32, e);
            weight(b + "ffn_gate_exps.weight", e, f, d);
            random(b + "ffn_gate_exps.bias", DType.F32, e, f);
            weight(b + "ffn_up_exps.weight", e, f, d);
            random(b + "ffn_up_exps.bias", DType.F32, e, f);
            weight(b + "ffn_down_exps.weight", e, d, f);
            random(b + "ffn_down_exps.bias", DType.F32, e, d);
        }
    }

    /**
     * A weight in the requested type, or Q8_0/F16 when its rows are not whole blocks of that type. MXFP4 files are
     * llama.cpp's MXFP4_MOE: merged 3-D experts MXFP4, every other weight Q8_0.
     */
    private void weight(String name, long... shape) {
        long cols = shape[shape.length - 1];
        DType wanted = type == DType.MXFP4 && shape.length != 3 ? DType.Q8_0 : type;
        DType t = cols % wanted.blockSize == 0 ? wanted : cols % 32 == 0 ? DType.Q8_0 : DType.F16;
        random(name, t, shape);
    }

    private void ones(String name, int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        totalBytes += 4L * n;
        w.addTensor(name, DType.F32, new long[] {n}, o -> {
            o.write(dev.moe4j.kernel.Quantize.encode(DType.F32, v));
            progress.advance(4L * n);
        });
    }

    private void random(String name, DType t, long... shape) {
        long n = 1;
        for (long x : shape) n *= x;
        long count = n, tensorSeed = seed * 0x9E3779B97F4A7C15L + name.hashCode();
        totalBytes += t.bytesFor(n);
        w.addTensor(name, t, shape, out -> stream(t, count, tensorSeed, out));
    }

    /** Generates and encodes a few chunks per thread at a time, then writes them in order. */
    private void stream(DType t, long n, long tensorSeed, OutputStream out) throws IOException {
        int batch = Parallel.threads() * 4;
        long chunks = (n + CHUNK - 1) / CHUNK;
        byte[][] bufs = new byte[batch][(int) t.bytesFor(Math.min(n, CHUNK))];
        float[][] vals = new float[batch][(int) Math.min(n, CHUNK)];
        for (long c0 = 0; c0 < chunks; c0 += batch) {
            long first = c0;
            int k = (int) Math.min(batch, chunks - c0);
            Parallel.run(k, i -> {
                long c = first + i;
                int len = (int) Math.min(CHUNK, n - c * CHUNK);
                if (t == DType.MXFP4) {
                    randomMxfp4(bufs[i], len / 32, tensorSeed ^ (c * 0xBF58476D1CE4E5B9L));
                } else {
                    fill(vals[i], len, tensorSeed ^ (c * 0xBF58476D1CE4E5B9L));
                    Quantize.encode(t, vals[i], 0, len, java.lang.foreign.MemorySegment.ofArray(bufs[i]), 0);
                }
            });
            for (int i = 0; i < k; i++) {
                int len = (int) t.bytesFor(Math.min(CHUNK, n - (first + i) * CHUNK));
                out.write(bufs[i], 0, len);
                progress.advance(len);
            }
        }
    }

    /**
     * Random MXFP4 blocks, drawn directly rather than quantised (a 20B-parameter file would otherwise spend most of
     * its time in the nearest-value search): uniform 4-bit codes under scale byte 120 (2^-8 on the doubled grid),
     * whose values have a standard deviation of 0.023, near the other weights' 0.02.
     */
    private static void randomMxfp4(byte[] out, int blocks, long state) {
        long x = state == 0 ? 1 : state;
        for (int k = 0; k < blocks; k++) {
            out[17 * k] = 120;
            for (int j = 0; j < 16; j += 8) {
                x ^= x >>> 12;
                x ^= x << 25;
                x ^= x >>> 27;
                long r = x * 0x2545F4914F6CDD1DL;
                for (int i = 0; i < 8; i++) out[17 * k + 1 + j + i] = (byte) (r >>> (8 * i));
            }
        }
    }

    /** Uniform values in (-AMPLITUDE, AMPLITUDE) from xorshift64*: fast and deterministic. */
    private static void fill(float[] v, int len, long state) {
        long x = state == 0 ? 1 : state;
        for (int i = 0; i < len; i++) {
            x ^= x >>> 12;
            x ^= x << 25;
            x ^= x >>> 27;
            long r = x * 0x2545F4914F6CDD1DL;
            v[i] = ((r >>> 40) * 0x1p-24f * 2 - 1) * AMPLITUDE;
        }
    }
}
