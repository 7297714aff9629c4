package dev.moe4j.cli;

import dev.moe4j.util.Moe4jException;
import dev.moe4j.util.Units;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A file that {@code synth} or {@code quantize} writes through {@code GgufWriter}, which writes {@code FILE.tmp}
 * and renames it when complete. Checked before writing (its folder exists, it is not a folder, the file system
 * has room for it); while it is written, a JVM shutdown (Ctrl-C, SIGTERM) stops the writer at its next progress
 * step and removes the unfinished {@code .tmp}. An exception during the write is GgufWriter's to clean up.
 */
final class OutputFile {
    /** Thrown into the writer when the JVM is shutting down; the shutdown hook reports it. */
    static final class Interrupted extends RuntimeException {
        Interrupted(Path file) {
            super(file + ": interrupted before it was complete");
        }
    }

    private static final long SHUTDOWN_WAIT_SECONDS = 10;

    private final Path path, tmp;
    private final PrintWriter err;
    private final Thread hook = new Thread(this::onShutdown, "moe4j-remove-unfinished-output");
    private final CountDownLatch writerDone = new CountDownLatch(1);
    private volatile boolean interrupted, written;

    private OutputFile(Path path, PrintWriter err) {
        this.path = path;
        this.tmp = path.resolveSibling(path.getFileName() + ".tmp");
        this.err = err;
    }

    /**
     * Checks that {@code path} can be written, then runs {@code writer} on it, guarded against shutdown.
     *
     * @throws Moe4jException naming the path if it is a folder or its folder does not exist or is not writable
     */
    static void write(Path path, PrintWriter err, Consumer<OutputFile> writer) {
        Path file = path.toAbsolutePath().normalize();
        Path folder = file.getParent();
        if (Files.isDirectory(file)) throw new Moe4jException(path + ": is a folder; give the file to write, e.g. " + path.resolve("model.gguf"));
        if (folder != null && Files.exists(folder) && !Files.isDirectory(folder)) throw new Moe4jException(path + ": " + folder + " is not a folder");
        if (folder == null || !Files.isDirectory(folder)) throw new Moe4jException(path + ": the folder " + folder + " does not exist");
        if (!Files.isWritable(folder)) throw new Moe4jException(path + ": cannot write in " + folder + " (permission denied)");
        OutputFile f = new OutputFile(path, err);
        Runtime.getRuntime().addShutdownHook(f.hook);
        try {
            writer.accept(f);
            f.written = true;
        } finally {
            f.writerDone.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(f.hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it finishes the cleanup
            }
        }
    }

    Path path() {
        return path;
    }

    /**
     * Refuses to start a write of {@code bytes} (the tensors' size, a little under the file's) that the file
     * system cannot hold, instead of filling it and failing part way.
     *
     * @throws Moe4jException naming the path, the bytes needed and the bytes available
     */
    void requireSpace(long bytes) {
        Path folder = path.toAbsolutePath().normalize().getParent();
        long free;
        try {
            FileStore store = Files.getFileStore(folder);
            free = store.getUsableSpace();
        } catch (IOException e) {
            return; // the file system does not say; the write itself will report a full disk
        }
        if (bytes > free) {
            throw new Moe4jException(path + ": needs " + Units.bytes(bytes) + " but only " + Units.bytes(free) + " free in " + folder);
        }
    }

    /** Called at every progress step of the writer. @throws Interrupted once the JVM has begun shutting down */
    void checkNotInterrupted() {
        if (interrupted) throw new Interrupted(path);
    }

    /** Stops the writer, waits (bounded) for it to give up, and removes what it left. */
    private void onShutdown() {
        interrupted = true;
        try {
            writerDone.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (written) return;
        try {
            Files.deleteIfExists(tmp); // the writer usually has, on its way out
            err.println("moe4j: interrupted: " + path + " was not written, and no partial " + tmp.getFileName() + " is left");
        } catch (IOException e) {
            err.println("moe4j: interrupted: could not remove the unfinished " + tmp + ": " + e.getMessage());
        }
        err.flush();
    }
}
