package dev.moe4j.tokenizer;

import dev.moe4j.util.Moe4jException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a SentencePiece {@code tokenizer.model} (a serialized ModelProto) with a minimal protobuf reader:
 * field 1 pieces {1 piece, 2 score, 3 type}, 2 TrainerSpec {3 model_type, 35 byte_fallback, 40-42 unk/bos/eos
 * ids}, 3 NormalizerSpec {1 name, 3 add_dummy_prefix}. Other fields are skipped.
 */
final class SentencePieceModel {
    private static final int MODEL_BPE = 2;

    private final byte[] b;
    private final String file;
    private int p;
    private int end;

    private SentencePieceModel(byte[] b, String file) {
        this.b = b;
        this.file = file;
        this.end = b.length;
    }

    static SpmVocab read(byte[] bytes, String file) {
        return new SentencePieceModel(bytes, file).model();
    }

    private Moe4jException bad(String why) {
        return new Moe4jException(file + ": malformed SentencePiece model: " + why + " at byte " + p);
    }

    private SpmVocab model() {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        SpmVocab v = new SpmVocab();
        v.source = file;
        int modelType = 1; // UNIGRAM is the protobuf default
        v.unkId = 0; v.bosId = 1; v.eosId = 2;
        while (p < end) {
            long key = varint();
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            if (wire != 2) { skip(wire); continue; }
            int len = (int) varint();
            int msgEnd = p + len;
            if (len < 0 || msgEnd > end) throw bad("length past the end");
            int outerEnd = end;
            end = msgEnd;
            switch (field) {
                case 1 -> {
                    String piece = ""; float score = 0; int type = SpmVocab.NORMAL;
                    while (p < end) {
                        long k = varint();
                        int f = (int) (k >>> 3), w = (int) (k & 7);
                        if (f == 1 && w == 2) piece = string();
                        else if (f == 2 && w == 5) score = Float.intBitsToFloat(fixed32());
                        else if (f == 3 && w == 0) type = (int) varint();
                        else skip(w);
                    }
                    pieces.add(piece); scores.add(score); types.add(type);
                }
                case 2 -> {
                    while (p < end) {
                        long k = varint();
                        int f = (int) (k >>> 3), w = (int) (k & 7);
                        if (w != 0) { skip(w); continue; }
                        long val = varint();
                        switch (f) {
                            case 3 -> modelType = (int) val;
                            case 35 -> v.byteFallback = val != 0;
                            case 40 -> v.unkId = (int) val;
                            case 41 -> v.bosId = (int) val;
                            case 42 -> v.eosId = (int) val;
                            default -> { }
                        }
                    }
                }
                case 3 -> {
                    while (p < end) {
                        long k = varint();
                        int f = (int) (k >>> 3), w = (int) (k & 7);
                        if (f == 1 && w == 2) v.nfkc = string().contains("nfkc");
                        else if (f == 3 && w == 0) v.addDummyPrefix = varint() != 0;
                        else skip(w);
                    }
                }
                default -> p = end;
            }
            p = msgEnd;
            end = outerEnd;
        }
        if (pieces.isEmpty()) throw new Moe4jException(file + ": SentencePiece model has no pieces (field 1)");
        if (modelType != MODEL_BPE) {
            throw new Moe4jException(file + ": trainer_spec.model_type " + modelType
                    + " is not supported (only BPE = 2; Unigram models are not implemented)");
        }
        int n = pieces.size();
        v.pieces = pieces.toArray(new String[0]);
        v.scores = new float[n];
        v.types = new int[n];
        for (int i = 0; i < n; i++) { v.scores[i] = scores.get(i); v.types[i] = types.get(i); }
        if (v.unkId >= n) v.unkId = -1;
        if (v.bosId >= n) v.bosId = -1;
        if (v.eosId >= n) v.eosId = -1;
        return v;
    }

    private long varint() {
        long r = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= end) throw bad("truncated varint");
            int c = b[p++] & 0xff;
            r |= (long) (c & 0x7f) << shift;
            if (c < 0x80) return r;
        }
        throw bad("varint too long");
    }

    private int fixed32() {
        if (p + 4 > end) throw bad("truncated fixed32");
        int r = (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
        p += 4;
        return r;
    }

    private String string() {
        int len = (int) varint();
        if (len < 0 || p + len > end) throw bad("string past the end");
        String s = new String(b, p, len, StandardCharsets.UTF_8);
        p += len;
        return s;
    }

    private void skip(int wire) {
        switch (wire) {
            case 0 -> varint();
            case 1 -> p += 8;
            case 2 -> { int len = (int) varint(); p += len; }
            case 5 -> p += 4;
            default -> throw bad("unsupported wire type " + wire);
        }
        if (p > end) throw bad("field past the end");
    }
}
