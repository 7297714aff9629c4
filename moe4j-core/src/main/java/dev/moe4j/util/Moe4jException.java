package dev.moe4j.util;

/**
 * An error a user can act on: a bad file, a missing tensor, an out-of-range argument. Its message is one
 * line that names the file and the tensor or field; the CLI prints it and exits with code 2.
 */
public class Moe4jException extends RuntimeException {
    public Moe4jException(String message) {
        super(message);
    }

    public Moe4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
