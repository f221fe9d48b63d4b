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
    bool is_array;       // its value is an array: elements, then
    List* elements;      // its string elements (char*)
    bool other_elements; // and whether it has elements of other kinds
};

struct ParseState {
    int depth;
    bool not_an_object;  // the document is an array or a scalar
    List* members;       // of JsonMember*
};

// An object or array as an element of a member's array: not a string.
void note_nested_element(ParseState* parse) {
    if (parse->depth != 2 || parse->members == NIL) return;
    auto* member = static_cast<JsonMember*>(llast(parse->members));
    if (member->is_array) member->other_elements = true;
}

void on_object_start(void* state) {
    auto* parse = static_cast<ParseState*>(state);
    note_nested_element(parse);
    ++parse->depth;
}

void on_object_end(void* state) { --static_cast<ParseState*>(state)->depth; }

void on_array_start(void* state) {
    auto* parse = static_cast<ParseState*>(state);
    if (parse->depth == 0) parse->not_an_object = true;
    // A member's own value is an array: its elements come at depth 2.
    if (parse->depth == 1 && parse->members != NIL) {
        static_cast<JsonMember*>(llast(parse->members))->is_array = true;
    }
    note_nested_element(parse);
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
    if (parse->members == NIL) return;
    auto* member = static_cast<JsonMember*>(llast(parse->members));
    // An element of a member's array (not of an array or object in it).
    if (parse->depth == 2 && member->is_array) {
        if (type == JSON_TOKEN_STRING) {
            member->elements = lappend(member->elements, token);
        } else {
            member->other_elements = true;
        }
        return;
    }
    // A member's own value: the scalar right after its name, at depth 1.
    if (parse->depth != 1) return;
    member->type = type;
    member->text = token;
}

core::JsonClaim::Kind kind_of(const JsonMember& member) {
    if (member.is_array) return core::JsonClaim::Kind::array;
    switch (member.type) {
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
        core::JsonClaim claim;
        claim.kind = kind_of(*member);
        if (claim.kind == core::JsonClaim::Kind::string || claim.kind == core::JsonClaim::Kind::number) {
            claim.text = member->text;
        }
        ListCell* element;
        foreach (element, member->elements) {
            claim.elements.emplace_back(static_cast<char*>(lfirst(element)));
        }
        claim.strings_only = !member->other_elements;
        if (!members.emplace(member->name, std::move(claim)).second) return std::nullopt;
    }
    return members;
}

}  // namespace tenancy::pg
