package dev.moe4j.serve;

/** A request that fails with an HTTP status and an OpenAI-style error body. */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String param;   // may be null
    final String code;    // may be null

    ApiException(int status, String type, String code, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", null, param, message);
    }
}
