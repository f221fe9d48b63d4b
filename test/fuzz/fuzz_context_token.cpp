// libFuzzer target: a context token from the network (any bytes) must never
// crash the splitter or the base64url decoder, and what they accept must be
// consistent: a token splits into exactly what its three segments decode to.
// A public key's PEM text (what a DBA inserts) must never crash its check.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/context_token.hpp"
#include "core/token_signature.hpp"

namespace core = tenancy::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto decoded = core::base64url_decode(text)) {
        if (decoded->size() > text.size()) std::abort();
    }
    // A public key's text (the keys table's check): never a crash, and a
    // problem or a key whichever algorithm.
    (void)core::public_key_problem(core::SigningAlgorithm::rs256, text);
    (void)core::public_key_problem(core::SigningAlgorithm::es256, text);

    // Escapes beyond ASCII become text: only backslashes are added.
    std::string escaped = core::escape_non_ascii_escapes(text);
    if (escaped.size() < text.size()) std::abort();

    std::string problem;
    auto segments = core::split_context_token(text, problem);
    if (segments) {
        if (!problem.empty() || text.size() > core::kMaxContextTokenBytes) std::abort();
        std::size_t dot = segments->signing_input.find('.');
        if (dot == std::string_view::npos) std::abort();
        if (core::base64url_decode(segments->signing_input.substr(0, dot)) != segments->header_json)
            std::abort();
        if (!core::equal_in_constant_time(segments->signature, segments->signature)) std::abort();
    } else if (problem.empty()) {
        std::abort();
    }
    return 0;
}
