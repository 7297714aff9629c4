package dev.moe4j.tokenizer;

import dev.moe4j.util.Json;
import dev.moe4j.util.Moe4jException;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Builds a {@link BpeTokenizer} from a parsed Hugging Face {@code tokenizer.json} (+ tokenizer_config.json). */
final class HfJsonLoader {
    private final String file;

    private HfJsonLoader(String file) {
        this.file = file;
    }

    static BpeTokenizer load(Map<String, Object> root, Map<String, Object> config, String file) {
        return new HfJsonLoader(file).build(root, config);
    }

    private Moe4jException bad(String field, String why) {
        return new Moe4jException(file + ": " + field + ": " + why);
    }

    private BpeTokenizer build(Map<String, Object> root, Map<String, Object> config) {
        Map<String, Object> model = Json.obj(root.get("model"));
        if (model == null) throw bad("model", "missing");
        String type = str(model, "type", "model.type");
        if (type == null && model.containsKey("merges")) type = "BPE";
        if (!"BPE".equals(type)) throw bad("model.type", "unsupported tokenizer model '" + type + "' (only BPE)");
        // Qwen2/Qwen3 files set both to "", which Hugging Face treats as unset.
        for (String key : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            Object v = model.get(key);
            if (v != null && !"".equals(v)) throw bad("model." + key, "'" + v + "' is not supported (only null or \"\")");
        }

        Map<String, Object> vocabJson = Json.obj(model.get("vocab"));
        if (vocabJson == null) throw bad("model.vocab", "missing or not an object");
        Map<String, Integer> vocab = new HashMap<>(vocabJson.size() * 2);
        int size = 0;
        for (var e : vocabJson.entrySet()) {
            int id = intOf(e.getValue(), "model.vocab[\"" + e.getKey() + "\"]");
            vocab.put(e.getKey(), id);
            size = Math.max(size, id + 1);
        }
        List<AddedTokens.Token> added = new ArrayList<>();
        List<Object> addedJson = root.get("added_tokens") == null ? List.of() : Json.arr(root.get("added_tokens"));
        if (addedJson == null) throw bad("added_tokens", "not an array");
        for (Object o : addedJson) {
            Map<String, Object> t = Json.obj(o);
            if (t == null) throw bad("added_tokens", "entry is not an object");
            String content = str(t, "content", "added_tokens[].content");
            int id = intOf(t.get("id"), "added_tokens[].id");
            boolean special = bool(t, "special", false);
            added.add(new AddedTokens.Token(content, id, special, bool(t, "lstrip", false), bool(t, "rstrip", false),
                    bool(t, "single_word", false), bool(t, "normalized", !special)));
            size = Math.max(size, id + 1);
        }
        String[] idToToken = new String[size];
        for (var e : vocab.entrySet()) idToToken[e.getValue()] = e.getKey();
        for (AddedTokens.Token t : added) idToToken[t.id()] = t.content();

        List<Object> mergesJson = Json.arr(model.get("merges"));
        if (mergesJson == null) throw bad("model.merges", "missing or not an array");
        List<String[]> pairs = new ArrayList<>(mergesJson.size());
        for (Object m : mergesJson) {
            if (m instanceof String s) {
                int sp = s.indexOf(' ', 1);
                if (sp < 0) throw bad("model.merges", "entry '" + s + "' is not 'left right'");
                pairs.add(new String[]{s.substring(0, sp), s.substring(sp + 1)});
            } else if (m instanceof List<?> l && l.size() == 2 && l.get(0) instanceof String a
                    && l.get(1) instanceof String b) {
                pairs.add(new String[]{a, b});
            } else {
                throw bad("model.merges", "entry " + m + " is neither 'a b' nor [a, b]");
            }
        }
        String unk = model.get("unk_token") instanceof String u ? u : null;
        Integer unkId = unk == null ? null : vocab.get(unk);
        BpeTokenizer.Spec s = new BpeTokenizer.Spec();
        s.source = file;
        s.model = new BpeModel(vocab, BpeModel.mergesFromPairs(vocab, pairs, file), bool(model, "byte_fallback", false),
                unkId == null ? -1 : unkId, bool(model, "fuse_unk", false), bool(model, "ignore_merges", false));
        s.idToToken = idToToken;
        s.added = added;
        s.normalizer = normalizer(root.get("normalizer"), "normalizer");
        s.preTokenizer = preTokenizer(root.get("pre_tokenizer"), "pre_tokenizer");
        s.decoder = new ArrayList<>();
        decoder(root.get("decoder"), "decoder", s.decoder);
        Map<String, Integer> ids = new HashMap<>(vocab);
        for (AddedTokens.Token t : added) ids.put(t.content(), t.id());
        List<Integer> pre = new ArrayList<>(), post = new ArrayList<>();
        postProcessor(root.get("post_processor"), "post_processor", ids, pre, post);
        s.prefix = pre.stream().mapToInt(Integer::intValue).toArray();
        s.suffix = post.stream().mapToInt(Integer::intValue).toArray();
        applyConfig(s, config, ids);
        return new BpeTokenizer(s);
    }

    /** tokenizer_config.json names bos/eos and may switch adding them on or off explicitly. */
    private void applyConfig(BpeTokenizer.Spec s, Map<String, Object> config, Map<String, Integer> ids) {
        if (s.prefix.length > 0) s.bos = s.prefix[0];
        if (config == null) return;
        Integer bos = tokenId(config.get("bos_token"), ids);
        Integer eos = tokenId(config.get("eos_token"), ids);
        if (config.containsKey("bos_token")) s.bos = bos == null ? -1 : bos;
        if (eos != null) s.eos = eos;
        if (config.get("add_bos_token") instanceof Boolean addBos && s.bos >= 0) {
            s.prefix = addBos ? new int[]{s.bos} : new int[0];
        }
        if (config.get("add_eos_token") instanceof Boolean addEos && s.eos >= 0) {
            s.suffix = addEos ? new int[]{s.eos} : new int[0];
        }
    }

    private static Integer tokenId(Object v, Map<String, Integer> ids) {
        if (v instanceof Map<?, ?> m && m.get("content") instanceof String c) return ids.get(c);
        return v instanceof String str ? ids.get(str) : null;
    }

    private UnaryOperator<String> normalizer(Object o, String field) {
        if (o == null) return null;
        Map<String, Object> n = Json.obj(o);
        if (n == null) throw bad(field, "not an object");
        String type = str(n, "type", field + ".type");
        return switch (type) {
            case "NFC" -> t -> Normalizer.normalize(t, Normalizer.Form.NFC);
            case "NFD" -> t -> Normalizer.normalize(t, Normalizer.Form.NFD);
            case "NFKC" -> t -> Normalizer.normalize(t, Normalizer.Form.NFKC);
            case "NFKD" -> t -> Normalizer.normalize(t, Normalizer.Form.NFKD);
            case "Lowercase" -> String::toLowerCase;
            case "Prepend" -> {
                String p = str(n, "prepend", field + ".prepend");
                yield t -> t.isEmpty() ? t : p + t;
            }
            case "Replace" -> {
                String from = replacePattern(n, field);
                String to = str(n, "content", field + ".content");
                yield t -> t.replace(from, to);
            }
            case "Sequence" -> {
                List<Object> steps = Json.arr(n.get("normalizers"));
                if (steps == null) throw bad(field + ".normalizers", "missing");
                List<UnaryOperator<String>> fs = new ArrayList<>();
                for (int i = 0; i < steps.size(); i++) {
                    UnaryOperator<String> f = normalizer(steps.get(i), field + ".normalizers[" + i + "]");
                    if (f != null) fs.add(f);
                }
                yield t -> {
                    for (UnaryOperator<String> f : fs) t = f.apply(t);
                    return t;
                };
            }
            default -> throw bad(field + ".type", "unsupported normalizer '" + type + "'");
        };
    }

    private String replacePattern(Map<String, Object> n, String field) {
        Map<String, Object> p = Json.obj(n.get("pattern"));
        if (p == null || !(p.get("String") instanceof String from)) {
            throw bad(field + ".pattern", "only String patterns are supported");
        }
        return from;
    }

    private PreTokenizer preTokenizer(Object o, String field) {
        if (o == null) return PreTokenizer.IDENTITY;
        Map<String, Object> p = Json.obj(o);
        if (p == null) throw bad(field, "not an object");
        String type = str(p, "type", field + ".type");
        switch (type) {
            case "Metaspace": {
                String rep = str(p, "replacement", field + ".replacement");
                String scheme = p.get("prepend_scheme") instanceof String ps ? ps
                        : bool(p, "add_prefix_space", true) ? "always" : "never";
                return new PreTokenizer.Metaspace(rep.charAt(0), scheme, bool(p, "split", true));
            }
            case "ByteLevel":
                return new PreTokenizer.ByteLevelPre(bool(p, "add_prefix_space", false),
                        bool(p, "use_regex", true) ? PreTokenizer.compile(PreTokenizer.GPT2_PATTERN) : null);
            case "Split": {
                Map<String, Object> pat = Json.obj(p.get("pattern"));
                if (pat == null) throw bad(field + ".pattern", "missing");
                String regex = pat.get("Regex") instanceof String r ? r
                        : pat.get("String") instanceof String lit ? java.util.regex.Pattern.quote(lit) : null;
                if (regex == null) throw bad(field + ".pattern", "neither Regex nor String");
                if (bool(p, "invert", false)) throw bad(field + ".invert", "inverted splits are not supported");
                String behavior = str(p, "behavior", field + ".behavior");
                if (!behavior.equals("Isolated") && !behavior.equals("Removed")) {
                    throw bad(field + ".behavior", "unsupported split behavior '" + behavior + "'");
                }
                try {
                    return new PreTokenizer.RegexSplit(PreTokenizer.compile(regex), behavior.equals("Removed"));
                } catch (java.util.regex.PatternSyntaxException e) {
                    throw bad(field + ".pattern", "regex not understood by java.util.regex: " + e.getDescription());
                }
            }
            case "Sequence": {
                List<Object> steps = Json.arr(p.get("pretokenizers"));
                if (steps == null) throw bad(field + ".pretokenizers", "missing");
                List<PreTokenizer> list = new ArrayList<>();
                for (int i = 0; i < steps.size(); i++) list.add(preTokenizer(steps.get(i), field + ".pretokenizers[" + i + "]"));
                return new PreTokenizer.Sequence(list);
            }
            default:
                throw bad(field + ".type", "unsupported pre-tokenizer '" + type + "'");
        }
    }

    private void decoder(Object o, String field, List<DecodeStep> out) {
        if (o == null) return;
        Map<String, Object> d = Json.obj(o);
        if (d == null) throw bad(field, "not an object");
        String type = str(d, "type", field + ".type");
        switch (type) {
            case "ByteLevel" -> out.add(new DecodeStep.ByteLevelDecode());
            case "ByteFallback" -> out.add(new DecodeStep.ByteFallback());
            case "Fuse" -> out.add(new DecodeStep.Fuse());
            case "Replace" -> out.add(new DecodeStep.Replace(replacePattern(d, field), str(d, "content", field + ".content")));
            case "Strip" -> out.add(new DecodeStep.Strip(str(d, "content", field + ".content").charAt(0),
                    intOf(d.get("start"), field + ".start"), intOf(d.get("stop"), field + ".stop")));
            case "Metaspace" -> {
                String scheme = d.get("prepend_scheme") instanceof String ps ? ps
                        : bool(d, "add_prefix_space", true) ? "always" : "never";
                out.add(new DecodeStep.MetaspaceDecode(str(d, "replacement", field + ".replacement").charAt(0),
                        !scheme.equals("never")));
            }
            case "Sequence" -> {
                List<Object> steps = Json.arr(d.get("decoders"));
                if (steps == null) throw bad(field + ".decoders", "missing");
                for (int i = 0; i < steps.size(); i++) decoder(steps.get(i), field + ".decoders[" + i + "]", out);
            }
            default -> throw bad(field + ".type", "unsupported decoder '" + type + "'");
        }
    }

    /** Collects the special ids a single-sequence encode gets before and after the text. */
    private void postProcessor(Object o, String field, Map<String, Integer> ids, List<Integer> pre, List<Integer> post) {
        if (o == null) return;
        Map<String, Object> p = Json.obj(o);
        if (p == null) throw bad(field, "not an object");
        String type = str(p, "type", field + ".type");
        switch (type) {
            case "ByteLevel" -> { }
            case "TemplateProcessing" -> {
                List<Object> single = Json.arr(p.get("single"));
                if (single == null) throw bad(field + ".single", "missing");
                Map<String, Object> specials = Json.obj(p.get("special_tokens"));
                boolean afterSeq = false;
                for (Object item : single) {
                    Map<String, Object> it = Json.obj(item);
                    if (it == null) throw bad(field + ".single", "entry is not an object");
                    if (it.containsKey("Sequence")) { afterSeq = true; continue; }
                    Map<String, Object> st = Json.obj(it.get("SpecialToken"));
                    if (st == null) throw bad(field + ".single", "entry is neither Sequence nor SpecialToken");
                    String name = str(st, "id", field + ".single[].SpecialToken.id");
                    List<Integer> target = afterSeq ? post : pre;
                    Map<String, Object> def = specials == null ? null : Json.obj(specials.get(name));
                    List<Object> defIds = def == null ? null : Json.arr(def.get("ids"));
                    if (defIds != null) {
                        for (Object x : defIds) target.add(intOf(x, field + ".special_tokens." + name + ".ids"));
                    } else {
                        Integer id = ids.get(name);
                        if (id == null) throw bad(field + ".special_tokens", "unknown token '" + name + "'");
                        target.add(id);
                    }
                }
            }
            case "RobertaProcessing", "BertProcessing" -> {
                List<Object> cls = Json.arr(p.get("cls")), sep = Json.arr(p.get("sep"));
                if (cls == null || cls.size() != 2 || sep == null || sep.size() != 2) {
                    throw bad(field, "cls/sep must be [token, id]");
                }
                pre.add(intOf(cls.get(1), field + ".cls"));
                post.add(intOf(sep.get(1), field + ".sep"));
            }
            case "Sequence" -> {
                List<Object> steps = Json.arr(p.get("processors"));
                if (steps == null) throw bad(field + ".processors", "missing");
                for (int i = 0; i < steps.size(); i++) postProcessor(steps.get(i), field + ".processors[" + i + "]", ids, pre, post);
            }
            default -> throw bad(field + ".type", "unsupported post-processor '" + type + "'");
        }
    }

    private String str(Map<String, Object> m, String key, String field) {
        Object v = m.get(key);
        if (!(v instanceof String s)) throw bad(field, v == null ? "missing" : "not a string");
        return s;
    }

    private static boolean bool(Map<String, Object> m, String key, boolean dflt) {
        return m.get(key) instanceof Boolean b ? b : dflt;
    }

    private int intOf(Object v, String field) {
        if (v instanceof Long l && l >= 0 && l <= Integer.MAX_VALUE) return (int) (long) l;
        throw bad(field, v == null ? "missing" : "not a non-negative integer: " + v);
    }
}
