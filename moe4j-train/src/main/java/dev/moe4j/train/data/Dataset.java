package dev.moe4j.train.data;

import dev.moe4j.tokenizer.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.zip.CRC32C;

/** Where training tokens come from. Batches are a pure function of (seed, step), so a resumed run sees the same data. */
public interface Dataset {
    /** The vocabulary (also what export writes as the tokenizer). */
    ByteBpe vocabulary();

    /** The same vocabulary as moe4j's inference tokenizer (for encoding prompts and decoding samples). */
    Tokenizer tokenizer();

    /** Domain names when sequences are labelled, else empty. */
    List<String> domains();

    Batch trainBatch(long seed, long step, int b, int t);

    /** A fixed held-out batch; the same for every run and seed. */
    Batch validationBatch(int index, int b, int t);

    /** Short description for logs and reports. */
    String describe();

    /**
     * A checksum of what the run trains on, recorded in checkpoints so that resuming on changed data is refused.
     * By default a CRC32C of a few training and validation batches' tokens; a dataset that can afford it covers all
     * of its tokens.
     */
    default long fingerprint() {
        CRC32C crc = new CRC32C();
        for (Batch b : List.of(trainBatch(1, 0, 4, 16), trainBatch(2, 1, 4, 16), validationBatch(0, 4, 16))) {
            for (int[] ids : new int[][] {b.inputs(), b.targets()}) {
                ByteBuffer buf = ByteBuffer.allocate(ids.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.asIntBuffer().put(ids);
                crc.update(buf);
            }
        }
        return crc.getValue();
    }

    static long mix(long seed, long step, long j) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + j * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
