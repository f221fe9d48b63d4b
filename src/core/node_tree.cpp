#include "core/node_tree.hpp"

namespace tenancy::core {

std::string strip_node_subtrees(std::string_view tree, std::string_view open_tag) {
    std::string out;
    out.reserve(tree.size());
    std::size_t i = 0;
    while (i < tree.size()) {
        if (tree[i] == '\\' && i + 1 < tree.size()) {
            out.append(tree.substr(i, 2));
            i += 2;
            continue;
        }
        if (!open_tag.empty() && tree.compare(i, open_tag.size(), open_tag) == 0) {
            int depth = 0;
            for (; i < tree.size(); ++i) {
                if (tree[i] == '\\') {
                    ++i;
                    continue;
                }
                if (tree[i] == '{') ++depth;
                if (tree[i] == '}' && --depth == 0) {
                    ++i;
                    break;
                }
            }
            continue;
        }
        out.push_back(tree[i]);
        ++i;
    }
    return out;
}

}  // namespace tenancy::core
