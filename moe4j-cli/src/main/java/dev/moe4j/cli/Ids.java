package dev.moe4j.cli;

import java.util.Collection;

/** Token id lists on the command line ("1,2,3") and in output (JSON arrays). */
final class Ids {
    private Ids() {}

    static int[] parse(String s) {
        String t = s.trim();
        if (t.startsWith("[") && t.endsWith("]")) t = t.substring(1, t.length() - 1);
        if (t.isBlank()) throw new IllegalArgumentException("--ids: no token ids given");
        String[] parts = t.split("[,\\s]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids: '" + parts[i] + "' is not a token id");
            }
        }
        return ids;
    }

    static String toJson(int[] ids) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) b.append(i == 0 ? "" : ", ").append(ids[i]);
        return b.append(']').toString();
    }

    static String toJson(Collection<Integer> ids) {
        return toJson(ids.stream().mapToInt(Integer::intValue).toArray());
    }

}
