package dev.moe4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** No two packages of moe4j-core depend on each other, directly or through others (read from the sources). */
class PackageCyclesTest {
    private static final Path SOURCES = Path.of("src/main/java");
    /** A reference to another class of ours: an import or a qualified name, up to the class name. */
    private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.moe4j((?:\\.[a-z][a-z0-9_]*)*)\\.[A-Z]");
    private static final Pattern COMMENTS = Pattern.compile("(?s)/\\*.*?\\*/|//[^\\n]*");

    @Test
    void packagesFormNoCycle() throws IOException {
        assertTrue(Files.isDirectory(SOURCES), "run from moe4j-core: no " + SOURCES.toAbsolutePath());
        Map<String, Map<String, Path>> uses = new TreeMap<>();   // package -> package it uses -> one file showing it
        List<Path> files;
        try (Stream<Path> s = Files.walk(SOURCES)) {
            files = s.filter(p -> p.toString().endsWith(".java")).toList();
        }
        for (Path f : files) {
            String pkg = SOURCES.relativize(f.getParent()).toString().replace(f.getFileSystem().getSeparator(), ".");
            Matcher m = REFERENCE.matcher(COMMENTS.matcher(Files.readString(f)).replaceAll(""));
            while (m.find()) {
                String used = "dev.moe4j" + m.group(1);
                if (!used.equals(pkg)) uses.computeIfAbsent(pkg, k -> new TreeMap<>()).putIfAbsent(used, f);
            }
        }
        assertFalse(uses.isEmpty(), "no cross-package references found under " + SOURCES.toAbsolutePath());
        for (var from : uses.entrySet()) {
            for (var edge : from.getValue().entrySet()) {
                List<String> back = path(uses, edge.getKey(), from.getKey());
                if (back != null) {
                    fail(from.getKey() + " uses " + edge.getKey() + " (" + SOURCES.relativize(edge.getValue())
                            + ") and " + String.join(" -> ", back) + " leads back");
                }
            }
        }
    }

    /** A chain of uses from {@code start} to {@code goal}, or null. */
    private static List<String> path(Map<String, Map<String, Path>> uses, String start, String goal) {
        Map<String, String> cameFrom = new TreeMap<>();
        ArrayDeque<String> queue = new ArrayDeque<>(List.of(start));
        TreeSet<String> seen = new TreeSet<>(List.of(start));
        while (!queue.isEmpty()) {
            String p = queue.poll();
            if (p.equals(goal)) {
                List<String> chain = new ArrayList<>();
                for (String q = goal; q != null; q = cameFrom.get(q)) chain.addFirst(q);
                return chain;
            }
            for (String next : uses.getOrDefault(p, Map.of()).keySet()) {
                if (seen.add(next)) {
                    cameFrom.put(next, p);
                    queue.add(next);
                }
            }
        }
        return null;
    }
}
