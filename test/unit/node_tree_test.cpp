#include "core/node_tree.hpp"

#include <gtest/gtest.h>

using tenancy::core::strip_node_subtrees;

TEST(NodeTree, RemovesTaggedSubtreesWithTheirChildren) {
    EXPECT_EQ(strip_node_subtrees("{OPEXPR :opfuncid 1 :args ({SUBLINK :x {QUERY :funcid 7}} {VAR})}",
                                  "{SUBLINK"),
              "{OPEXPR :opfuncid 1 :args ( {VAR})}");
}

TEST(NodeTree, RemovesEverySubtreeAndKeepsTheRest) {
    EXPECT_EQ(strip_node_subtrees("a{SUBLINK {b}}c{SUBLINK}d", "{SUBLINK"), "acd");
    EXPECT_EQ(strip_node_subtrees("{FUNCEXPR :funcid 42}", "{SUBLINK"), "{FUNCEXPR :funcid 42}");
    EXPECT_EQ(strip_node_subtrees("", "{SUBLINK"), "");
}

TEST(NodeTree, EscapedBracesDoNotCount) {
    EXPECT_EQ(strip_node_subtrees("x{SUBLINK \\} still inside}y", "{SUBLINK"), "xy");
    EXPECT_EQ(strip_node_subtrees("\\{SUBLINK kept", "{SUBLINK"), "\\{SUBLINK kept");
}

TEST(NodeTree, UnbalancedInputEndsAtTheUnclosedNode) {
    EXPECT_EQ(strip_node_subtrees("keep{SUBLINK {never closed", "{SUBLINK"), "keep");
}
