package dev.moe4j.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.moe4j.generate.ChatRenderer;
import dev.moe4j.generate.ChatRequest;
import dev.moe4j.generate.ChatTemplate;
import dev.moe4j.generate.ChatTemplateException;
import jinjava.javax.el.CompositeELResolver;

import java.time.Clock;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's Jinja chat template, run on Jinjava with the conventions of Hugging Face transformers'
 * {@code apply_chat_template}: {@code trim_blocks} and {@code lstrip_blocks}; {@code raise_exception(msg)};
 * {@code tojson} as Python's {@code json.dumps(ensure_ascii=False)}; {@code strftime_now(format)};
 * {@code bos_token}, {@code eos_token}, {@code messages}, {@code tools}, {@code documents},
 * {@code add_generation_prompt} and any extra variables ({@code enable_thinking}, {@code reasoning_effort}, ...).
 *
 * <p>Where Jinjava differs from Python jinja2 it is extended through its public extension points: Python's
 * string methods by an EL resolver ({@link PythonMethods}), {@code tojson} and {@code raise_exception} as a
 * filter and a function, Python's {@code str} of printed values by an interpreter factory ({@link PythonStrInterpreter}). One piece of syntax cannot be added that way, a slice with a step: the template's
 * {@code [::-1]} (Qwen3 walks its messages backwards with it) is rewritten to a call of
 * {@link PythonMethods#REVERSED} before parsing. {@code ChatTemplateRendersTest} compares the renders with Python
 * jinja2's on real templates.
 */
public final class JinjaChatTemplate implements ChatRenderer {
    /** The clock of the render in progress on this thread, for {@code strftime_now}. */
    private static final ThreadLocal<Clock> CLOCK = new ThreadLocal<>();

    private final String source;
    private final ChatTemplate family;
    private final String bosToken, eosToken;
    private final Clock clock;
    private final Jinjava jinjava;

    /**
     * @param source   the Jinja template text
     * @param bosToken the text of the BOS token (the template's {@code bos_token}), "" when there is none
     * @param eosToken the text of the EOS token, "" when there is none
     * @param clock    what {@code strftime_now} reads (local date and time of the clock's zone)
     */
    public JinjaChatTemplate(String source, String bosToken, String eosToken, Clock clock) {
        this.source = SourceRewrites.apply(source);
        this.family = ChatTemplate.detect(source);
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.clock = clock;
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                // Values are data, as in jinja2: without this Jinjava renders a message's "{{ ... }}" as template code
                .withNestedInterpretationEnabled(false)
                .withLstripBlocks(false)   // jinja2's lstrip_blocks is applied by SourceRewrites
                .withElResolver(resolver)
                .withInterperterFactory(new PythonStrInterpreter.Factory())
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUsePyishObjectMapper(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withHandleBackslashInQuotesOnly(true)
                        .build())
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFilter(new ToJsonFilter());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", JinjaChatTemplate.class, "raiseException", Object.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", JinjaChatTemplate.class, "strftimeNow", String.class));
    }

    @Override
    public ChatTemplate family() { return family; }

    @Override
    public String render(ChatRequest request) {
        boolean cont = request.continueFinalMessage();
        Map<String, Object> vars = new HashMap<>(request.extraVariables());
        vars.put("messages", request.messages());
        vars.put("tools", request.tools().isEmpty() ? null : request.tools());
        vars.put("documents", request.documents().isEmpty() ? null : request.documents());
        vars.put("add_generation_prompt", request.addGenerationPrompt());
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        String text = renderVariables(vars);
        return cont ? cutAfterFinalMessage(text, request.messages()) : text;
    }

    /**
     * Renders the template with exactly these variables (no defaults added).
     *
     * @throws ChatTemplateException quoting the template's error, with its line
     */
    public String renderVariables(Map<String, Object> vars) {
        RenderResult result;
        CLOCK.set(clock);
        try {
            result = jinjava.renderForResult(source, vars);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template failed: " + oneLine(message(e)), e);
        } finally {
            CLOCK.remove();
        }
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException("chat template error" + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "")
                        + ": " + oneLine(templateMessage(e)));
            }
        }
        return result.getOutput();
    }

    /** As transformers does for continue_final_message: the render up to the end of the final message's stripped content. */
    private static String cutAfterFinalMessage(String text, List<Map<String, Object>> messages) {
        Object content = messages.isEmpty() ? null : messages.getLast().get("content");
        String finalText = content instanceof String s ? s.strip() : "";
        int at = finalText.isEmpty() ? -1 : text.lastIndexOf(finalText);
        if (at < 0) {
            throw new ChatTemplateException("continue_final_message: the final message's content does not appear in the rendered prompt");
        }
        return text.substring(0, at + finalText.length());
    }

    /** The template's own words for an error: raise_exception's message when it raised, else Jinjava's. */
    private static String templateMessage(TemplateError e) {
        for (Throwable t = e.getException(); t != null; t = t.getCause()) {
            if (t instanceof Raised r) return r.getMessage();
        }
        String m = e.getMessage();
        int at = m == null ? -1 : m.indexOf(Raised.PREFIX);
        return at >= 0 ? m.substring(at + Raised.PREFIX.length()) : String.valueOf(m);
    }

    private static String message(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof Raised r) return r.getMessage();
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /** {@code raise_exception(message)}: the template refuses the conversation. */
    public static Object raiseException(Object message) {
        throw new Raised(String.valueOf(message));
    }

    /** {@code strftime_now(format)}: the render's clock, formatted by Python's strftime directives. */
    public static String strftimeNow(String format) {
        Clock c = CLOCK.get();
        return Strftime.format(LocalDateTime.now(c != null ? c : Clock.systemDefaultZone()), format);
    }

    /** What raise_exception throws; Jinjava records it as a fatal error whose message we quote. */
    static final class Raised extends RuntimeException {
        static final String PREFIX = "template raised: ";

        Raised(String message) {
            super(message);
        }

        @Override
        public String toString() { return PREFIX + getMessage(); }
    }
}
