#include "pg/json_object.hpp"

#include "pg/error_barrier.hpp"

extern "C" {
#include "common/jsonapi.h"
}

namespace tenancy::pg {
namespace {

// What the parser's callbacks collect (C flow: palloc'd, no C++ objects).
struct JsonMember {
    char* name;
    JsonTokenType type;  // JSON_TOKEN_INVALID for a nested object or array
    char* text;
};

struct ParseState {
    int depth;
    bool not_an_object;  // the document is an array or a scalar
    List* members;       // of JsonMember*
};

void on_object_start(void* state) {
    auto* parse = static_cast<ParseState*>(state);
    ++parse->depth;
}

void on_object_end(void* state) { --static_cast<ParseState*>(state)->depth; }

void on_array_start(void* state) {
    auto* parse = static_cast<ParseState*>(state);
    if (parse->depth == 0) parse->not_an_object = true;
    ++parse->depth;
}

void on_array_end(void* state) { --static_cast<ParseState*>(state)->depth; }

void on_field_start(void* state, char* name, bool) {
    auto* parse = static_cast<ParseState*>(state);
    if (parse->depth != 1) return;
    auto* member = static_cast<JsonMember*>(palloc0(sizeof(JsonMember)));
    member->name = name;
    member->type = JSON_TOKEN_INVALID;
    parse->members = lappend(parse->members, member);
}

void on_scalar(void* state, char* token, JsonTokenType type) {
    auto* parse = static_cast<ParseState*>(state);
    if (parse->depth == 0) {
        parse->not_an_object = true;
        return;
    }
    // A member's own value: the scalar right after its name, at depth 1.
    if (parse->depth != 1 || parse->members == NIL) return;
    auto* member = static_cast<JsonMember*>(llast(parse->members));
    member->type = type;
    member->text = token;
}

core::JsonClaim::Kind kind_of(JsonTokenType type) {
    switch (type) {
        case JSON_TOKEN_STRING: return core::JsonClaim::Kind::string;
        case JSON_TOKEN_NUMBER: return core::JsonClaim::Kind::number;
        default: return core::JsonClaim::Kind::other;
    }
}

}  // namespace

std::optional<std::map<std::string, core::JsonClaim>> json_object_members(const std::string& json) {
    ParseState state{0, false, NIL};
    bool parsed = call([&] {
        JsonLexContext* lex = makeJsonLexContextCstringLen(const_cast<char*>(json.c_str()),
                                                           static_cast<int>(json.size()),
                                                           GetDatabaseEncoding(), true);
        JsonSemAction actions{};
        actions.semstate = &state;
        actions.object_start = on_object_start;
        actions.object_end = on_object_end;
        actions.array_start = on_array_start;
        actions.array_end = on_array_end;
        actions.object_field_start = on_field_start;
        actions.scalar = on_scalar;
        return pg_parse_json(lex, &actions) == JSON_SUCCESS;
    });
    if (!parsed || state.not_an_object) return std::nullopt;
    std::map<std::string, core::JsonClaim> members;
    ListCell* cell;
    foreach (cell, state.members) {
        auto* member = static_cast<JsonMember*>(lfirst(cell));
        core::JsonClaim claim{kind_of(member->type), member->text != nullptr ? member->text : ""};
        if (claim.kind == core::JsonClaim::Kind::other) claim.text.clear();
        if (!members.emplace(member->name, std::move(claim)).second) return std::nullopt;
    }
    return members;
}

}  // namespace tenancy::pg
