package dev.moe4j.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeMemoryTest {
    @Test
    void buffersAreUsableAlignedAndFreedWithTheirArena() {
        System.out.println("native memory: huge-page aligned_alloc " + (NativeMemory.usesHugePages() ? "in use" : "not available, Arena.allocate"));
        MemorySegment big, small;
        try (Arena arena = Arena.ofShared()) {
            big = NativeMemory.allocate(5L << 20 | 7, arena);     // not a multiple of the huge page
            small = NativeMemory.allocate(1000, arena);
            for (MemorySegment s : new MemorySegment[] {big, small}) {
                assertEquals(0, s.address() % 64, "alignment");
                s.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
                s.set(ValueLayout.JAVA_BYTE, s.byteSize() - 1, (byte) 2);
                assertEquals(2, s.get(ValueLayout.JAVA_BYTE, s.byteSize() - 1));
            }
            assertEquals((5L << 20) | 7, big.byteSize());
            assertThrows(IndexOutOfBoundsException.class, () -> big.get(ValueLayout.JAVA_BYTE, big.byteSize()));
        }
        assertTrue(!big.scope().isAlive() && !small.scope().isAlive(), "closing the arena frees both");
        assertThrows(IllegalStateException.class, () -> big.get(ValueLayout.JAVA_BYTE, 0));
    }
}
