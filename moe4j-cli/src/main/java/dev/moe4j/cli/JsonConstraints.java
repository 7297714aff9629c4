package dev.moe4j.cli;

import dev.moe4j.constrain.Grammar;
import dev.moe4j.constrain.JsonSchemaGrammar;
import dev.moe4j.constrain.SchemaException;
import dev.moe4j.constrain.TokenConstraint;
import dev.moe4j.constrain.TokenTrie;
import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.util.Json;
import dev.moe4j.util.Moe4jException;

import java.nio.file.Path;
import java.util.Set;

/** The constraint of {@code --json} / {@code --json-schema FILE}; a bad schema file is a one-line error naming it. */
final class JsonConstraints {
    private JsonConstraints() {}

    /**
     * @throws Moe4jException naming the file when it is missing, not JSON, or uses a keyword outside the supported subset
     */
    static TokenConstraint of(boolean anyObject, Path schemaFile, Tokenizer tokenizer, Set<Integer> endTokens) {
        Grammar g;
        if (anyObject) {
            g = JsonSchemaGrammar.anyObject();
        } else {
            Object schema;
            try {
                schema = Json.parse(java.nio.file.Files.readString(schemaFile));
            } catch (java.io.IOException e) {
                throw new Moe4jException("--json-schema " + schemaFile + ": cannot read it (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            } catch (IllegalArgumentException e) {
                throw new Moe4jException("--json-schema " + schemaFile + ": not valid JSON: " + e.getMessage());
            }
            try {
                g = JsonSchemaGrammar.schema(schema);
            } catch (SchemaException e) {
                throw new Moe4jException("--json-schema " + schemaFile + ": " + e.getMessage());
            }
        }
        return new TokenConstraint(g, TokenTrie.of(tokenizer), endTokens.stream().mapToInt(Integer::intValue).toArray());
    }
}
