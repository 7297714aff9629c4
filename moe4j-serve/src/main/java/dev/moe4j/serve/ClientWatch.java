package dev.moe4j.serve;

import io.javalin.http.Context;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;

/**
 * Notices a client that hangs up while its answer is being generated. A whole answer writes nothing until it is
 * complete, and a streamed one learns of a gone client only when a write fails, which can take two writes (the
 * first lands in the socket buffer); so, once the request body has been read, the connection is watched for
 * input: end-of-stream or a failed connection means the client left. That read may consume bytes of a pipelined
 * next request, and the watch cannot be withdrawn, so the response closes the connection when it is done.
 */
final class ClientWatch {
    private ClientWatch() {}

    /**
     * Runs {@code onGone} (on a Jetty thread) if the client of {@code ctx} closes its connection, or once the
     * connection closes after the answer (harmless then). Call after reading the body, before the response is committed.
     */
    static void onDisconnect(Context ctx, Runnable onGone) {
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        if (request == null) return;
        ctx.header("Connection", "close");
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        watch(endPoint, onGone);
    }

    private static void watch(EndPoint endPoint, Runnable onGone) {
        endPoint.tryFillInterested(new Callback() {
            @Override
            public void succeeded() {
                int n;
                try {
                    n = endPoint.fill(BufferUtil.allocate(1));
                } catch (IOException e) {
                    n = -1;
                }
                if (n < 0) onGone.run();
                else if (n == 0) watch(endPoint, onGone); // woken without data: keep watching
                // n > 0: the client sent more (a pipelined request); it is still there, and the connection closes after this answer
            }

            @Override
            public void failed(Throwable x) {
                onGone.run();
            }
        });
    }
}
