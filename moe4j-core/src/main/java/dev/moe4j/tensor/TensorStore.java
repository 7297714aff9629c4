package dev.moe4j.tensor;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A set of named tensors read from one model file or checkpoint folder; closing it unmaps the files. */
public interface TensorStore extends AutoCloseable {

    /** The tensor with this name, if present. */
    Optional<Tensor> find(String name);

    /** Names of all tensors, in file order. */
    Set<String> names();

    /** The file or folder the tensors came from, for error messages. */
    Path source();

    /** Format-level metadata (GGUF key/values; for safetensors the {@code __metadata__} strings). */
    Map<String, Object> metadata();

    @Override
    void close();
}
