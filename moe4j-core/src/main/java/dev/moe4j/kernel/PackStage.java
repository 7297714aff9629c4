package dev.moe4j.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Per-thread heap copies of one panel while it is repacked: one bulk copy in, plain array indexing (which C2
 * compiles without per-access segment checks), one bulk copy out. Accessing the segments value by value had
 * made loading olmoe-1b-7b Q8_0 take 9–15 s; through arrays it takes 5.5–7 s.
 */
final class PackStage {
    private static final ThreadLocal<byte[][]> STAGE = ThreadLocal.withInitial(() -> new byte[][] {new byte[0], new byte[0]});

    private PackStage() {}

    /** [0]: {@code bytes} bytes of {@code src} from {@code offset}; [1]: an array to pack them into. */
    static byte[][] read(MemorySegment src, long offset, int bytes) {
        return read(src, offset, bytes, bytes);
    }

    /** As {@link #read(MemorySegment, long, int)}, for a packed layout of {@code packedBytes} bytes. */
    static byte[][] read(MemorySegment src, long offset, int bytes, int packedBytes) {
        byte[][] stage = STAGE.get();
        if (stage[0].length < bytes || stage[1].length < packedBytes) {
            stage = new byte[][] {new byte[Math.max(bytes, stage[0].length)], new byte[Math.max(packedBytes, stage[1].length)]};
            STAGE.set(stage);
        }
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, offset, stage[0], 0, bytes);
        return stage;
    }

    /** Copies the first {@code bytes} packed bytes to {@code dst} at {@code offset}. */
    static void write(byte[] packed, MemorySegment dst, long offset, int bytes) {
        MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, offset, bytes);
    }
}
