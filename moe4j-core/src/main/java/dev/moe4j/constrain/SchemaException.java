package dev.moe4j.constrain;

/**
 * A JSON schema that constrained decoding cannot enforce: an unsupported keyword, a malformed value or a reference
 * that does not resolve. {@link #path()} is where in the schema (a JSON pointer such as {@code /properties/age}),
 * {@link #keyword()} the keyword at fault; the message names both.
 */
public final class SchemaException extends IllegalArgumentException {
    private final String path;
    private final String keyword;

    public SchemaException(String path, String keyword, String problem) {
        super("schema " + (path.isEmpty() ? "root" : path) + ": " + problem);
        this.path = path;
        this.keyword = keyword;
    }

    public String path() { return path; }

    public String keyword() { return keyword; }
}
