package dev.moe4j.train;

import dev.moe4j.util.Moe4jException;
import dev.moe4j.util.Units;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A folder a command writes a known set of files into ({@code --out}). Before any work starts it checks that the
 * folder can be written and has room, so a read-only, full or misnamed folder fails at once rather than at the
 * first checkpoint; and it tells which of the command's files are already there, so nothing is overwritten
 * without asking. Outputs are relative paths ({@code "hf/config.json"}); one ending in {@code /} is a scratch
 * folder of the command's own, deleted whole by {@link #clear()}.
 */
public final class OutputFolder {
    private final Path dir;
    private final List<String> outputs;
    private final List<Path> created = new ArrayList<>();  // folders prepare() made, outermost first

    public OutputFolder(Path dir, Collection<String> outputs) {
        this.dir = dir;
        this.outputs = List.copyOf(outputs);
    }

    public Path dir() { return dir; }

    /** The outputs that exist already, in the order given. */
    public List<String> existing() {
        List<String> out = new ArrayList<>();
        for (String o : outputs) if (Files.exists(dir.resolve(strip(o)))) out.add(strip(o));
        return out;
    }

    /** Top-level entries of the folder that are neither outputs nor folders holding outputs (none if it does not exist). */
    public List<String> others() {
        Set<String> ours = new LinkedHashSet<>();
        for (String o : outputs) ours.add(strip(o).split("/")[0]);
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !ours.contains(n)).sorted().toList();
        } catch (IOException e) {
            throw new Moe4jException(dir + ": cannot list the folder: " + reason(e), e);
        }
    }

    /**
     * Creates the folder if needed (with any missing parents, which {@link #removeCreatedFolders} can take away
     * again) and creates and deletes a file in it. When it fails, the folders it created are removed.
     *
     * @throws Moe4jException naming the folder when it is a file, cannot be created or cannot be written
     */
    public void prepare() {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new Moe4jException(dir + ": not a folder (a file has that name)");
        for (Path p = dir.toAbsolutePath().normalize(); p != null && !Files.exists(p); p = p.getParent()) {
            if (!created.contains(p)) created.addFirst(p);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw failed(new Moe4jException(dir + ": cannot create the folder: " + reason(e), e));
        }
        try {
            Files.delete(Files.createTempFile(dir, ".moe4j-write-test", ".tmp"));
        } catch (IOException e) {
            throw failed(new Moe4jException(dir + ": cannot write into the folder: " + reason(e), e));
        }
    }

    /**
     * Removes the folders {@link #prepare} created, innermost first, as long as they are empty: a command that
     * fails before writing anything it keeps leaves no folder of its own behind. Folders that existed before,
     * or that now hold something, stay.
     *
     * @throws IOException when an empty folder cannot be deleted
     */
    public void removeCreatedFolders() throws IOException {
        for (Path p : created.reversed()) {
            try {
                Files.deleteIfExists(p);
            } catch (DirectoryNotEmptyException e) {
                return;  // holds something (its parents then do too)
            }
        }
        created.clear();
    }

    private Moe4jException failed(Moe4jException e) {
        try {
            removeCreatedFolders();
        } catch (IOException cleanup) {
            e.addSuppressed(cleanup);
        }
        return e;
    }

    /**
     * @param bytes what the command will write at most, in bytes
     * @param what  what those bytes are, for the message
     * @throws Moe4jException when the folder's file system has fewer usable bytes
     */
    public void requireSpace(long bytes, String what) {
        long free;
        try {
            free = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return; // a file system that cannot say leaves the check to the writes themselves, which clean up after failing
        }
        if (free < bytes) {
            throw new Moe4jException(dir + ": " + what + " need about " + Units.bytes(bytes) + ", only " + Units.bytes(free) + " free");
        }
    }

    /** Deletes the outputs that exist (only those; a folder holding them when it is left empty). */
    public void clear() {
        try {
            for (String o : outputs) {
                Path p = dir.resolve(strip(o));
                if (o.endsWith("/")) deleteTree(p);
                else Files.deleteIfExists(p);
                for (Path parent = p.getParent(); parent != null && !parent.equals(dir) && parent.startsWith(dir); parent = parent.getParent()) {
                    try {
                        Files.deleteIfExists(parent);
                    } catch (DirectoryNotEmptyException e) {
                        break; // holds files that are not ours
                    }
                }
            }
        } catch (IOException e) {
            throw new Moe4jException(dir + ": cannot delete the previous outputs: " + reason(e), e);
        }
    }

    /** Deletes a folder and everything in it, if it exists. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    /** The operating system's reason for a failed file operation, without the path the caller names anyway. */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof NoSuchFileException) return "no such file or folder";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String strip(String o) {
        return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    }
}
