package dev.moe4j.train;

import dev.moe4j.train.data.BuiltinCorpus;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A checkpoint is read back bit for bit; a damaged, truncated or edited one is refused with one line naming file and section or field. */
class CheckpointTest {
    static final BuiltinCorpus CORPUS = new BuiltinCorpus(null);
    /** Sigmoid routing, so the selection-bias section holds trained values. */
    static final ModelSpec SPEC = new ModelSpec(257, 8, 2, 2, 4, 2, 8, 0, 8, 10000, 1e-5, RouterSpec.sigmoidBias(0.01), true);
    static final List<String> SECTIONS = List.of("meta", "weights", "adam-m", "adam-v", "selection-bias", "history");

    @TempDir static Path shared;
    static byte[] original;
    static Trainer trained;

    @BeforeAll
    static void train() throws Exception {
        trained = Trainer.create(SPEC, TrainOptions.defaults(5), CORPUS, "builtin", shared.resolve("run"));
        trained.run(null);
        original = Files.readAllBytes(shared.resolve("run").resolve(Checkpoint.FILE));
    }

    @Test
    void readsBackEveryBit() {
        Checkpoint c = Checkpoint.read(shared.resolve("run"));
        assertEquals(5, c.step());
        assertEquals(SPEC, c.spec());
        assertEquals(TrainOptions.defaults(5), c.options());
        assertArrayEquals(trained.model().w, c.weights());
        assertArrayEquals(trained.model().selectionBias[1], c.selectionBias()[1]);
        assertTrue(java.util.Arrays.stream(c.selectionBias()[0]).anyMatch(x -> x != 0), "the bias section holds trained values");
        assertEquals(5, c.history().size());
    }

    /**
     * A bit flipped in every byte of the framing (magic, section names, lengths, checksums) and in 40 seeded places of
     * each section's payload: each is refused, and a flip inside a payload names its section.
     */
    @Test
    void flippedBytesAreRefusedNamingTheSection(@TempDir Path dir) throws Exception {
        Map<String, int[]> spans = sections(original);
        List<Integer> positions = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(42);
        int framingFrom = 0;
        for (int[] s : spans.values()) {
            for (int i = framingFrom; i < s[0]; i++) positions.add(i);
            for (int j = 0; j < 40; j++) positions.add(r.nextInt(s[0], s[1]));
            framingFrom = s[1];
        }
        for (int i = framingFrom; i < original.length; i++) positions.add(i);
        Path file = dir.resolve(Checkpoint.FILE);
        for (int i : positions) {
            byte[] b = original.clone();
            b[i] ^= (byte) (1 << (i % 8));
            Files.write(file, b);
            Moe4jException e = assertThrows(Moe4jException.class, () -> Checkpoint.read(dir), "flipped byte " + i);
            assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            for (var s : spans.entrySet()) {
                if (i >= s.getValue()[0] && i < s.getValue()[1]) {
                    assertTrue(e.getMessage().contains("section '" + s.getKey() + "' fails its CRC32C checksum"), "byte " + i + ": " + e.getMessage());
                }
            }
        }
        System.out.printf("checkpoint of %d bytes: %d single-bit flips, all refused%n", original.length, positions.size());
    }

    @Test
    void truncatedOrExtendedFilesAreRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve(Checkpoint.FILE);
        for (int len : new int[] {0, 4, 8, 30, original.length / 2, original.length - 1}) {
            Files.write(file, java.util.Arrays.copyOf(original, len));
            Moe4jException e = assertThrows(Moe4jException.class, () -> Checkpoint.read(dir), "length " + len);
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("bad magic"), e.getMessage());
        }
        byte[] longer = java.util.Arrays.copyOf(original, original.length + 3);
        Files.write(file, longer);
        assertTrue(assertThrows(Moe4jException.class, () -> Checkpoint.read(dir)).getMessage().contains("3 unexpected bytes after the last section"));
    }

    /** Fields edited with a valid checksum (a buggy writer, a hand edit): each refused naming the field. */
    @Test
    void editedFieldsAreRefusedNamingTheField(@TempDir Path dir) throws Exception {
        String[][] cases = {                                // {found, replacement, expected message}
                {"step=5", "step=5000", "invalid step: 5000"},  // beyond the schedule: would train into NaN
                {"step=5", "step=-1", "invalid step: -1"},
                {"dim=8", "dim=abc", "invalid dim: 'abc'"},
                {"dim=8", "dim=16", "section 'weights' holds"},  // the weights no longer fit the shape
                {"heads=2", "heads=3", "invalid heads: 3"},
                {"lr=0.003", "lr=NaN", "invalid lr: NaN"},
                {"norm-eps=1.0E-5", "norm-eps=-1", "invalid norm-eps: -1.0"},
                {"rope-theta=10000.0", "rope-theta=Infinity", "invalid rope-theta: Infinity"},
                {"top-k=2", "top-k=5", "invalid top-k: 5"},
                {"router=SIGMOID_BIAS", "router=RANDOM", "invalid router: 'RANDOM'"},
                {"causal=true", "causal=yes", "invalid causal: 'yes'"},
                {"seed=1234\n", "\n", "field seed is missing"},
                {"eval-batches=4", "eval-batches=0", "invalid eval-batches: 0"}};
        String meta = new String(section(original, "meta"), StandardCharsets.UTF_8);
        for (String[] c : cases) {
            assertTrue(meta.contains(c[0]), c[0] + " in\n" + meta);
            Files.write(dir.resolve(Checkpoint.FILE), withSection(original, "meta", meta.replace(c[0], c[1]).getBytes(StandardCharsets.UTF_8)));
            Moe4jException e = assertThrows(Moe4jException.class, () -> Checkpoint.read(dir), c[1]);
            assertTrue(e.getMessage().contains(Checkpoint.FILE + ": " + c[2]), e.getMessage());
        }
    }

    @Test
    void nonFiniteOrNegativeStateIsRefusedNamingTheTensor(@TempDir Path dir) {
        Checkpoint c = Checkpoint.read(shared.resolve("run"));
        int at = new Params(SPEC).tensor("layers.1.attn.k").offset() + 3;
        double[] w = c.weights().clone();
        w[at] = Double.NaN;
        new Checkpoint(c.spec(), c.options(), c.data(), c.dataFingerprint(), c.step(), w, c.m(), c.v(), c.selectionBias(), c.history()).write(dir);
        assertTrue(assertThrows(Moe4jException.class, () -> Checkpoint.read(dir)).getMessage()
                .contains("section 'weights' holds NaN in tensor layers.1.attn.k (index 3)"));
        double[] v = c.v().clone();
        v[at] = -1e-3;
        new Checkpoint(c.spec(), c.options(), c.data(), c.dataFingerprint(), c.step(), c.weights(), c.m(), v, c.selectionBias(), c.history()).write(dir);
        assertTrue(assertThrows(Moe4jException.class, () -> Checkpoint.read(dir)).getMessage().contains("negative second moment"));
        List<double[]> h = new ArrayList<>(c.history());
        h.set(2, h.get(3));
        new Checkpoint(c.spec(), c.options(), c.data(), c.dataFingerprint(), c.step(), c.weights(), c.m(), c.v(), c.selectionBias(), h).write(dir);
        assertTrue(assertThrows(Moe4jException.class, () -> Checkpoint.read(dir)).getMessage().contains("row 2 records step 4.0, not 3"));
    }

    @Test
    void aFailedWriteKeepsNoTemporaryFile(@TempDir Path dir) throws Exception {
        Checkpoint c = Checkpoint.read(shared.resolve("run"));
        Files.createDirectories(dir.resolve(Checkpoint.FILE).resolve("in-the-way"));  // the rename onto it fails
        Moe4jException e = assertThrows(Moe4jException.class, () -> c.write(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve(Checkpoint.FILE) + ": cannot write the checkpoint"), e.getMessage());
        assertFalse(Files.exists(dir.resolve(Checkpoint.FILE + ".tmp")));
    }

    @Test
    void olderFormatIsRefusedSayingWhy(@TempDir Path dir) throws Exception {
        byte[] b = original.clone();
        b[7] = '1';
        Files.write(dir.resolve(Checkpoint.FILE), b);
        assertTrue(assertThrows(Moe4jException.class, () -> Checkpoint.read(dir)).getMessage().contains("format without checksums"));
    }

    @Test
    void randomBytesAreRefused(@TempDir Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 50; i++) {
            byte[] b = new byte[r.nextInt(1, 4096)];
            r.nextBytes(b);
            if (i % 2 == 0) System.arraycopy(original, 0, b, 0, Math.min(b.length, 8 + r.nextInt(0, 40)));  // right magic, garbage after
            Files.write(dir.resolve(Checkpoint.FILE), b);
            assertThrows(Moe4jException.class, () -> Checkpoint.read(dir));
        }
    }

    // ---- the framing, read independently of CheckpointFile: name length, name, int64 length, payload, CRC32C ----

    /** Payload spans [from, to) of each section. */
    static Map<String, int[]> sections(byte[] file) {
        Map<String, int[]> out = new LinkedHashMap<>();
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        b.position(8);
        while (b.hasRemaining()) {
            byte[] name = new byte[b.get()];
            b.get(name);
            int len = (int) b.getLong();
            out.put(new String(name, StandardCharsets.US_ASCII), new int[] {b.position(), b.position() + len});
            b.position(b.position() + len + 4);
        }
        assertEquals(SECTIONS, List.copyOf(out.keySet()));
        return out;
    }

    static byte[] section(byte[] file, String name) {
        int[] s = sections(file).get(name);
        return java.util.Arrays.copyOfRange(file, s[0], s[1]);
    }

    /** The file with one section's payload replaced and its length and checksum made to match. */
    static byte[] withSection(byte[] file, String name, byte[] payload) {
        int[] s = sections(file).get(name);
        int headerStart = s[0] - 8 - 1 - name.length();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(file, 0, headerStart);
        o.write(name.length());
        o.writeBytes(name.getBytes(StandardCharsets.US_ASCII));
        o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(payload.length).array());
        o.writeBytes(payload);
        CRC32C crc = new CRC32C();
        crc.update(payload);
        o.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).array());
        o.write(file, s[1] + 4, file.length - s[1] - 4);
        return o.toByteArray();
    }
}
