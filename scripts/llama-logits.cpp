// Prints nothing, writes llama.cpp's logits for every position of a prompt given as token ids:
//   llama-logits MODEL.gguf ID,ID,... OUT.f32 [THREADS]  ->  float32 [n_ids, n_vocab], row-major, little-endian
// Built by scripts/compare-llama-quants.sh against a llama.cpp you built yourself (llama.h's public API only).
// LLAMA_LOGITS_F32_KV=1 keeps the KV cache in f32, so llama.cpp's own f16 cache adds no error to the comparison.
#include "llama.h"
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char ** argv) {
    if (argc < 4) { std::fprintf(stderr, "usage: %s MODEL.gguf ID,ID,... OUT.f32 [THREADS]\n", argv[0]); return 2; }
    std::vector<llama_token> ids;
    std::string list = argv[2];
    for (size_t start = 0; start < list.size();) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        ids.push_back((llama_token) std::atoi(list.substr(start, comma - start).c_str()));
        start = comma + 1;
    }
    const int threads = argc > 4 ? std::atoi(argv[4]) : 2;
    llama_backend_init();
    llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (model == nullptr) { std::fprintf(stderr, "%s: cannot load\n", argv[1]); return 1; }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) ids.size() + 8;
    cp.n_batch = cp.n_ubatch = (uint32_t) ids.size();
    cp.n_threads = cp.n_threads_batch = threads;
    if (std::getenv("LLAMA_LOGITS_F32_KV") != nullptr) { cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32; }
    llama_context * ctx = llama_init_from_model(model, cp);
    if (ctx == nullptr) { std::fprintf(stderr, "cannot create a context\n"); return 1; }
    llama_batch batch = llama_batch_init((int32_t) ids.size(), 0, 1);
    for (size_t i = 0; i < ids.size(); i++) {
        batch.token[i] = ids[i];
        batch.pos[i] = (llama_pos) i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = (int32_t) ids.size();
    if (llama_decode(ctx, batch) != 0) { std::fprintf(stderr, "decode failed\n"); return 1; }
    const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    FILE * out = std::fopen(argv[3], "wb");
    if (out == nullptr) { std::fprintf(stderr, "%s: cannot write\n", argv[3]); return 1; }
    for (size_t i = 0; i < ids.size(); i++) std::fwrite(llama_get_logits_ith(ctx, (int32_t) i), sizeof(float), vocab, out);
    std::fclose(out);
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
