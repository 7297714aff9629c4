package dev.moe4j.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;

/**
 * Jinjava's interpreter with Python's {@code str} for the values it prints differently: {@code True}/{@code False},
 * floats as {@code repr}. (Null prints as nothing: Jinjava has no undefined apart from none, and templates print
 * undefined fields, which jinja2 prints as nothing, far more often than none.) Installed through {@code JinjavaConfig.withInterperterFactory}; other values
 * are printed by Jinjava's Python-like mapper, which already writes lists and dicts as Python does.
 */
final class PythonStrInterpreter extends JinjavaInterpreter {
    PythonStrInterpreter(Jinjava jinjava, Context context, JinjavaConfig config) {
        super(jinjava, context, config);
    }

    PythonStrInterpreter(JinjavaInterpreter parent) {
        super(parent);
    }

    @Override
    public String getAsString(Object value) {
        return switch (value) {
            case null -> "";
            case Boolean b -> b ? "True" : "False";
            case Double d -> PyRepr.floatRepr(d);
            case Float f -> PyRepr.floatRepr(f.doubleValue());
            default -> super.getAsString(value);
        };
    }

    static final class Factory implements InterpreterFactory {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter parent) {
            return new PythonStrInterpreter(parent);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava jinjava, Context context, JinjavaConfig config) {
            return new PythonStrInterpreter(jinjava, context, config);
        }
    }
}
