package dev.moe4j.serve;

import io.javalin.http.Context;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Notices a client that hangs up while its answer is being generated. A whole answer writes nothing until it is
 * complete, and a streamed one learns of a gone client only when a write fails, which takes two writes (the
 * first lands in the socket buffer); Jetty does not read an HTTP/1.1 connection while a request is handled, so
 * it does not see the end-of-stream either. Here the connection's socket is registered, besides Jetty's, with
 * a selector of our own: readable with nothing to read means end-of-stream, and the client is gone. Readable with
 * bytes (a pipelined next request) ends the watch, leaving them to Jetty. Nothing is read, and a watch is
 * withdrawn when its answer is done, so connections stay reusable.
 */
final class ClientWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClientWatch.class);

    private final Selector selector;
    private final Queue<Watch> toRegister = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean open = true;

    /** One request's watch; {@link #close()} withdraws it (from any thread, any number of times). */
    static final class Watch implements AutoCloseable {
        private final SocketChannel channel;
        private final Runnable onGone;
        private volatile SelectionKey key;
        private volatile boolean closed;

        private Watch(SocketChannel channel, Runnable onGone) {
            this.channel = channel;
            this.onGone = onGone;
        }

        @Override
        public void close() {
            closed = true;
            SelectionKey k = key;
            if (k != null) k.cancel();
        }
    }

    ClientWatch() {
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector", e);
        }
        this.thread = Thread.ofPlatform().name("moe4j-client-watch").daemon().start(this::loop);
    }

    /**
     * Runs {@code onGone} (on the watch thread) if the client of {@code ctx} closes its connection before the
     * returned watch is closed. Call after reading the request body. Connections that are not plain sockets are
     * not watched.
     */
    Watch watch(Context ctx, Runnable onGone) {
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        EndPoint endPoint = request == null ? null : request.getConnectionMetaData().getConnection().getEndPoint();
        Watch w = new Watch(endPoint instanceof SocketChannelEndPoint s ? s.getChannel() : null, onGone);
        if (w.channel != null) {
            toRegister.add(w);
            selector.wakeup(); // registered by the watch thread, after a select has dropped cancelled keys of the same socket
        }
        return w;
    }

    /**
     * Closes the connection of {@code ctx} without an answer: for a client seen gone. A client that only half-closed
     * (shut down its sending side but still reads) looks the same, and gets the connection closed rather than a
     * made-up status.
     */
    static void hangUp(Context ctx) {
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        if (request != null) request.getConnectionMetaData().getConnection().getEndPoint().close();
    }

    private void loop() {
        while (open) {
            try {
                selector.select(1_000);
                for (SelectionKey k : selector.selectedKeys()) inspect(k);
                selector.selectedKeys().clear();
                for (Watch w; (w = toRegister.poll()) != null; ) register(w);
            } catch (IOException | RuntimeException e) {
                log.warn("client watch: {}", e.toString());
            }
        }
    }

    private void register(Watch w) {
        if (w.closed) return;
        try {
            w.key = w.channel.register(selector, SelectionKey.OP_READ, w);
            if (w.closed) w.key.cancel(); // closed meanwhile
        } catch (ClosedChannelException e) {
            w.onGone.run();
        } catch (CancelledKeyException e) { // the previous request's key is not dropped yet: next round
            toRegister.add(w);
        }
    }

    private static void inspect(SelectionKey k) {
        Watch w = (Watch) k.attachment();
        k.cancel(); // once: gone, or a next request is arriving for Jetty to read
        if (w.closed) return;
        int pending;
        try {
            pending = w.channel.socket().getInputStream().available();
        } catch (IOException e) {
            pending = 0;
        }
        if (pending == 0) w.onGone.run(); // readable with nothing to read: end-of-stream or a reset
    }

    @Override
    public void close() {
        open = false;
        selector.wakeup();
        try {
            thread.join(2_000);
            selector.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
