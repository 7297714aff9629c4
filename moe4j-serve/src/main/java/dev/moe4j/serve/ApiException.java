package dev.moe4j.serve;

/** A request that fails with an HTTP status and an OpenAI-style error body. */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String param;   // may be null
    final String code;    // may be null

    ApiException(int status, String type, String code, String param, String message) {
        super(message, null, false, false); // a client's mistake: no stack trace to fill or log
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", null, param, message);
    }

    /** An error raised by Jetty or Javalin rather than by us: its code is the status's reason phrase ("payload_too_large"). */
    static ApiException ofStatus(int status, String message) {
        String reason = org.eclipse.jetty.http.HttpStatus.getMessage(status);
        String text = message == null || message.isBlank() || message.equalsIgnoreCase(reason) ? reason : reason + ": " + message;
        if (status >= 500) return new ApiException(status, "server_error", null, null, text);
        return refused(status, reason.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "_"), text);
    }

    /** A request the server refuses for what it is rather than what it says (wrong method, host, media type, size). */
    static ApiException refused(int status, String code, String message) {
        return new ApiException(status, "invalid_request_error", code, null, message);
    }
}
