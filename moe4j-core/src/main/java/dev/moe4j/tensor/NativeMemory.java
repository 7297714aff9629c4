package dev.moe4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Large off-heap buffers for weights that moe4j rewrites at load time (repacked Q4_0). On Linux, with native
 * access enabled (the {@code moe4j} launcher enables it), they come from {@code aligned_alloc} in 2 MiB huge
 * pages ({@code madvise(MADV_HUGEPAGE)}): no zeroing pass before the rewrite fills them, first-touch page
 * faults spread over the threads that fill them, and decoding, which streams the whole buffer, walks 512×
 * fewer pages. Elsewhere: {@link Arena#allocate}.
 */
public final class NativeMemory {
    private static final long HUGE_PAGE = 2L << 20;
    private static final int MADV_HUGEPAGE = 14;
    private static final MethodHandle ALIGNED_ALLOC, FREE, MADVISE;

    static {
        MethodHandle alloc = null, free = null, madvise = null;
        boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        if (linux && NativeMemory.class.getModule().isNativeAccessEnabled()) {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                alloc = linker.downcallHandle(libc.find("aligned_alloc").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
                free = linker.downcallHandle(libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            } catch (RuntimeException e) {
                alloc = free = madvise = null;   // an unusual libc: the plain allocation works everywhere
            }
        }
        ALIGNED_ALLOC = alloc;
        FREE = free;
        MADVISE = madvise;
    }

    private NativeMemory() {}

    /** Whether buffers come from huge-page {@code aligned_alloc} rather than {@link Arena#allocate}. */
    public static boolean usesHugePages() {
        return ALIGNED_ALLOC != null;
    }

    /**
     * {@code size} bytes, 64-byte aligned at least, freed when {@code arena} closes. Contents are unspecified
     * (not zeroed) when {@link #usesHugePages()}.
     */
    public static MemorySegment allocate(long size, Arena arena) {
        if (ALIGNED_ALLOC == null || size < HUGE_PAGE) return arena.allocate(size, 64);
        long rounded = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;   // aligned_alloc wants a multiple of the alignment
        try {
            MemorySegment p = (MemorySegment) ALIGNED_ALLOC.invokeExact(HUGE_PAGE, rounded);
            if (p.address() == 0) throw new OutOfMemoryError("aligned_alloc of " + rounded + " bytes failed");
            int ignored = (int) MADVISE.invokeExact(p, rounded, MADV_HUGEPAGE);   // advice only: failure is harmless
            return p.reinterpret(size, arena, NativeMemory::free);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void free(MemorySegment p) {
        try {
            FREE.invokeExact(p);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
