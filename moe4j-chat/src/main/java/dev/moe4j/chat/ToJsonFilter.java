package dev.moe4j.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.Map;

/**
 * {@code tojson} as transformers defines it for chat templates: Python's {@code json.dumps} with
 * {@code ensure_ascii=False} and the {@code indent}, {@code separators} and {@code sort_keys} arguments
 * (Jinjava's own filter writes compact JSON).
 */
final class ToJsonFilter implements Filter {
    @Override
    public String getName() { return "tojson"; }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, String... args) {
        return filter(value, interpreter, args, Map.of());
    }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
        Object separators = kwargs.get("separators");
        String item = null, key = null;
        if (separators instanceof java.util.List<?> l && l.size() == 2) {
            item = String.valueOf(l.get(0));
            key = String.valueOf(l.get(1));
        }
        boolean sort = Boolean.TRUE.equals(kwargs.get("sort_keys"));
        Integer ind = indent instanceof Number n ? n.intValue() : null;
        return new PyJson(ind, item, key, sort).write(value);
    }
}
