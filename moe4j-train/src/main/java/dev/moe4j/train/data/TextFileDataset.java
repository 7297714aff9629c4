package dev.moe4j.train.data;

import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.util.Moe4jException;

import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.io.BufferedOutputStream;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.IntBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * Plain text of any size, streamed: a byte-level BPE vocabulary is trained on the first few megabytes, then the
 * whole file is encoded chunk by chunk into a token file beside the checkpoints and memory-mapped. Training
 * windows start at random offsets in the first 95%; the last 5% is held out for validation.
 */
public final class TextFileDataset implements Dataset {
    private static final int SAMPLE_CHARS = 2 << 20;
    private final Path file;
    private final ByteBpe vocab;
    private final Tokenizer tokenizer;
    private final IntBuffer tokens;
    private final int trainEnd;
    private final long fingerprint;

    /** The files the constructor writes into its work folder. */
    public static final List<String> WORK_FILES = List.of("tokenizer.json", "tokenizer_config.json", "tokens.bin");

    /**
     * Checks that {@code file} is a file that can be read to its end: not missing, not a folder, and not a device,
     * pipe or socket (which may never end, as a FIFO, or hold no text, as /dev/null).
     *
     * @throws Moe4jException naming the file and which of those it is
     */
    public static void requireRegularFile(Path file) {
        if (Files.isRegularFile(file)) return;
        if (Files.isDirectory(file)) throw new Moe4jException(file + ": is a folder, not a text file");
        if (Files.exists(file)) throw new Moe4jException(file + ": not a regular file (a device, pipe or socket); give a text file");
        throw new Moe4jException(file + ": no such file");
    }

    /**
     * Trains the vocabulary, encodes the file into {@code workDir/tokens.bin} and maps it.
     *
     * @param vocabSize 257 (or less) for plain bytes, else a BPE vocabulary of that size
     * @throws Moe4jException naming the file when it is missing or not a regular file, not UTF-8 or too large, or the
     *                        work folder cannot be written
     */
    public TextFileDataset(Path file, int vocabSize, Path workDir) {
        this.file = file;
        requireRegularFile(file);
        try {
            Files.createDirectories(workDir);
            this.vocab = vocabSize <= 257 ? ByteBpe.bytes() : ByteBpe.train(sample(file), vocabSize);
            this.tokenizer = TokenizerFiles.write(vocab, workDir, 1 << 16);
            Path tokFile = workDir.resolve("tokens.bin");
            long count = encode(file, tokFile);
            if (count > Integer.MAX_VALUE / 4) {
                throw new Moe4jException(file + ": " + count + " tokens; at most " + Integer.MAX_VALUE / 4 + " are supported (one mapped token file)");
            }
            try (FileChannel ch = FileChannel.open(tokFile, StandardOpenOption.READ)) {
                MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
                CRC32C crc = new CRC32C();
                crc.update(mapped.duplicate());
                this.fingerprint = crc.getValue();
                this.tokens = mapped.order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
            }
            this.trainEnd = (int) (count * 0.95);
        } catch (CharacterCodingException e) {
            throw new Moe4jException(file + ": not UTF-8 text", e);
        } catch (IOException | UncheckedIOException e) {
            throw new Moe4jException(file + ": cannot encode into " + workDir + ": " + e.getMessage(), e);
        }
    }

    private static String sample(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            char[] buf = new char[SAMPLE_CHARS];
            int n = 0, got;
            while (n < buf.length && (got = r.read(buf, n, buf.length - n)) > 0) n += got;
            return new String(buf, 0, n);
        }
    }

    /** Streams the file in chunks that end at a line break (so no word is cut) and appends the ids. */
    private long encode(Path file, Path out) throws IOException {
        long count = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(out), 1 << 16))) {
            StringBuilder chunk = new StringBuilder();
            String line;
            while ((line = r.readLine()) != null) {
                chunk.append(line).append('\n');
                if (chunk.length() >= 1 << 16) { count += write(chunk, o); chunk.setLength(0); }
            }
            count += write(chunk, o);
        }
        return count;
    }

    private long write(StringBuilder chunk, DataOutputStream o) throws IOException {
        if (chunk.isEmpty()) return 0;
        int[] ids = tokenizer.encode(chunk.toString(), false);
        for (int id : ids) o.writeInt(Integer.reverseBytes(id));
        return ids.length;
    }

    @Override public ByteBpe vocabulary() { return vocab; }
    @Override public Tokenizer tokenizer() { return tokenizer; }
    @Override public List<String> domains() { return List.of(); }
    /** CRC32C of every token id. */
    @Override public long fingerprint() { return fingerprint; }
    @Override public String describe() { return file + " (" + tokens.limit() + " tokens, vocabulary " + vocab.vocabSize() + ")"; }

    @Override
    public Batch trainBatch(long seed, long step, int b, int t) {
        return window(0, trainEnd, seed, step, b, t);
    }

    @Override
    public Batch validationBatch(int index, int b, int t) {
        return window(trainEnd, tokens.limit(), 0x5EED_7A11L, index, b, t);
    }

    private Batch window(int from, int to, long seed, long step, int b, int t) {
        if (to - from < t + 1) {
            throw new Moe4jException(file + ": too little text for sequences of " + t + " tokens (" + (to - from) + " tokens in this split)");
        }
        int[] in = new int[b * t], tg = new int[b * t], dom = new int[b];
        for (int j = 0; j < b; j++) {
            int start = from + new SplittableRandom(Dataset.mix(seed, step, j)).nextInt(to - from - t);
            for (int i = 0; i < t; i++) { in[j * t + i] = tokens.get(start + i); tg[j * t + i] = tokens.get(start + i + 1); }
            dom[j] = -1;
        }
        return new Batch(b, t, in, tg, dom);
    }
}
