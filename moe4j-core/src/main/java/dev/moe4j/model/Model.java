package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.safetensors.SafetensorsStore;
import dev.moe4j.kernel.Warmup;
import dev.moe4j.tensor.TensorStore;
import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.tokenizer.Tokenizers;
import dev.moe4j.util.Json;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A loaded checkpoint: its configuration, the transformer over its memory-mapped weights, and its
 * tokenizer. Opens a {@code .gguf} file or a Hugging Face folder (config.json + safetensors).
 */
public final class Model implements AutoCloseable {
    public enum Format { GGUF, SAFETENSORS }

    /** The name of the template used when a checkpoint names several (transformers' convention). */
    public static final String DEFAULT_TEMPLATE = "default";

    private final Path source;
    private final Format format;
    private final TensorStore store;
    private final Weights weights;
    private final ModelConfig config;
    private final MoeTransformer transformer;
    private final Tokenizer tokenizer;   // null when the checkpoint has none
    private final Map<String, String> chatTemplates;   // name ("default", "tool_use", ...) -> Jinja source; empty when none

    private Model(Path source, Format format, TensorStore store, ModelConfig config, Tokenizer tokenizer,
                  Map<String, String> chatTemplates, TensorNames names, Quantization quantization) {
        this.source = source;
        this.format = format;
        this.store = store;
        this.config = config;
        this.tokenizer = tokenizer;
        this.chatTemplates = chatTemplates;
        this.weights = Weights.forInference(store, quantization);
        try {
            this.transformer = new ModelBuilder(config, names, weights).build();
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /**
     * Compiles the kernels this model's weight types need before the first prompt (see {@link Warmup}):
     * costs a fraction of a second, saves seconds on a cold JVM's first prompt.
     */
    public Model warmUp() {
        Warmup.run(weights.tensorsInUse());
        return this;
    }

    /** Opens a model; every problem with the files is a {@link Moe4jException} naming the file and field. */
    public static Model load(Path path) {
        if (!Files.exists(path)) throw new Moe4jException(path + ": no such file or directory");
        if (!Files.isReadable(path)) throw new Moe4jException(path + ": not readable");
        if (Files.isDirectory(path)) return loadHf(path);
        if (isGguf(path)) return loadGguf(path);
        if (path.getFileName().toString().endsWith(".safetensors") && path.getParent() != null) return loadHf(path.getParent());
        throw new Moe4jException(path + ": not a GGUF file (bad magic) and not a checkpoint folder");
    }

    private static boolean isGguf(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
        } catch (IOException e) {
            throw new Moe4jException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Model loadGguf(Path path) {
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelConfig config = GgufConfigReader.read(gguf);
            Map<String, Object> meta = gguf.metadata();
            Tokenizer tok = meta.containsKey("tokenizer.ggml.model") ? Tokenizers.fromGgufMetadata(meta, path.toString()) : null;
            return new Model(path, Format.GGUF, gguf, config, tok, ggufChatTemplates(meta), config.architecture().ggufNames(),
                    Quantization.NONE);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    private static Model loadHf(Path dir) {
        SafetensorsStore store = SafetensorsStore.open(dir);
        try {
            ModelConfig config = HfConfigReader.readFolder(dir, store);
            Quantization quantization = Quantization.readFolder(dir);
            boolean hasTokenizer = Files.exists(dir.resolve("tokenizer.json")) || Files.exists(dir.resolve("tokenizer.model"));
            Tokenizer tok = hasTokenizer ? Tokenizers.fromHuggingFaceFolder(dir) : null;
            return new Model(dir, Format.SAFETENSORS, store, config, tok, readChatTemplates(dir),
                    new HfTensorNames(config.architecture()), quantization);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** GGUF {@code tokenizer.chat_template} (the default) and {@code tokenizer.chat_template.NAME} (named ones, as llama.cpp writes them). */
    private static Map<String, String> ggufChatTemplates(Map<String, Object> meta) {
        Map<String, String> out = new LinkedHashMap<>();
        if (meta.get("tokenizer.chat_template") instanceof String s) out.put(DEFAULT_TEMPLATE, s);
        for (var e : meta.entrySet()) {
            if (e.getKey().startsWith("tokenizer.chat_template.") && e.getValue() instanceof String s) {
                out.put(e.getKey().substring("tokenizer.chat_template.".length()), s);
            }
        }
        return Map.copyOf(out);
    }

    /**
     * A folder's chat templates, as transformers reads them: {@code chat_template.jinja} when present, else
     * {@code tokenizer_config.json}'s {@code chat_template}, a string or a list of {@code {"name","template"}}.
     */
    private static Map<String, String> readChatTemplates(Path dir) {
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Map.of(DEFAULT_TEMPLATE, Files.readString(jinja));
            } catch (IOException | java.io.UncheckedIOException e) {
                throw new Moe4jException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        }
        Path f = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(f)) return Map.of();
        return switch (Json.parseFile(f, Json.MAX_CONFIG_BYTES).get("chat_template")) {
            case null -> Map.of();
            case String s -> Map.of(DEFAULT_TEMPLATE, s);
            case java.util.List<?> list -> {
                Map<String, String> out = new LinkedHashMap<>();
                for (int i = 0; i < list.size(); i++) {
                    if (!(list.get(i) instanceof Map<?, ?> entry) || !(entry.get("name") instanceof String name)
                            || !(entry.get("template") instanceof String template)) {
                        throw new Moe4jException(f + ": field 'chat_template[" + i + "]' must be an object with string 'name' and 'template'");
                    }
                    out.put(name, template);
                }
                yield Map.copyOf(out);
            }
            case Object o -> throw new Moe4jException(f + ": field 'chat_template' is " + ConfigValues.show(o) + "; expected a string or a list of named templates");
        };
    }

    public Path source() { return source; }
    public Format format() { return format; }
    public TensorStore store() { return store; }
    public ModelConfig config() { return config; }
    public MoeTransformer transformer() { return transformer; }
    /** The checkpoint's default Jinja chat template, or null when it has none. */
    public String chatTemplate() { return chatTemplates.get(DEFAULT_TEMPLATE); }

    /** Every chat template of the checkpoint by name ({@value #DEFAULT_TEMPLATE}, and e.g. {@code tool_use}); empty when none. */
    public Map<String, String> chatTemplates() { return chatTemplates; }

    public boolean hasTokenizer() { return tokenizer != null; }

    public Tokenizer tokenizer() {
        if (tokenizer == null) throw new Moe4jException(source + ": the checkpoint has no tokenizer");
        return tokenizer;
    }

    @Override
    public void close() {
        weights.close();
        store.close();
    }
}
