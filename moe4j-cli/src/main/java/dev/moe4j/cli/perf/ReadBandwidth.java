package dev.moe4j.cli.perf;

import dev.moe4j.kernel.Parallel;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** The machine's read bandwidth: all pool threads summing their parts of a buffer far larger than the caches. */
public final class ReadBandwidth {
    private static final VectorSpecies<Long> V = LongVector.SPECIES_PREFERRED;

    private ReadBandwidth() {}

    /** Best of {@code runs} passes over {@code bytes} bytes, in bytes per second. */
    public static double measure(long bytes, int runs) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(bytes, 64);
            seg.fill((byte) 1);
            int chunks = Parallel.threads() * 16;
            long per = bytes / chunks / V.vectorByteSize() * V.vectorByteSize();
            long[] sink = new long[chunks];
            double best = 0;
            for (int r = 0; r < runs + 1; r++) { // the first pass warms up the JIT and the page tables
                long t0 = System.nanoTime();
                Parallel.run(chunks, c -> {
                    LongVector a = LongVector.zero(V), b = a;
                    long end = (c + 1) * per;
                    for (long o = c * per; o < end; o += 2L * V.vectorByteSize()) {
                        a = a.add(LongVector.fromMemorySegment(V, seg, o, ByteOrder.LITTLE_ENDIAN));
                        b = b.add(LongVector.fromMemorySegment(V, seg, o + V.vectorByteSize(), ByteOrder.LITTLE_ENDIAN));
                    }
                    sink[c] = a.add(b).reduceLanes(VectorOperators.ADD);
                });
                double s = (System.nanoTime() - t0) / 1e9;
                if (r > 0) best = Math.max(best, chunks * per / s);
            }
            return best;
        }
    }
}
