// In-process cost of the keyed user hash (1.25) in the rollups' batch: 1,000,000
// events (1,000 organizations, 50 users each, 5 kinds, 3 hours: 15,000 buckets,
// as test/bench/rollups.sh makes them) added to an EventRollupBatch, unkeyed
// (hash_id) and keyed (SipHash-2-4), medians of 9 alternated runs.
//   g++ -O2 -std=c++17 -Isrc test/bench/rollup_batch_user_hash.cpp src/core/rollup_batch.cpp \
//       src/core/distinct_sketch.cpp src/core/quantile_sketch.cpp src/core/siphash.cpp -o /tmp/b
#include <chrono>
#include <cstdio>
#include <algorithm>
#include <vector>
#include "core/rollup_batch.hpp"
using namespace tenancy::core;
int main() {
    const char* kinds[] = {"login", "lesson_viewed", "quiz_submitted", "video_played", "file_opened"};
    std::vector<Uuid> orgs(1000), users(50000);
    for (int i = 0; i < 1000; ++i) { orgs[i].bytes[0] = i & 255; orgs[i].bytes[1] = i >> 8; orgs[i].bytes[9] = 7; }
    for (int i = 0; i < 50000; ++i) { users[i].bytes[2] = i & 255; users[i].bytes[3] = (i >> 8) & 255; users[i].bytes[4] = i >> 16; users[i].bytes[12] = 3; }
    auto run = [&](UserHash h) {
        auto t0 = std::chrono::steady_clock::now();
        EventRollupBatch b(std::size_t{1} << 20, h);
        for (std::int64_t i = 0; i < 1000000; ++i) {
            b.add(orgs[i % 1000], (i % 180) * 60000000LL, kinds[(i * 2654435761u >> 7) % 5], double(i % 1000) / 10,
                  users[(i % 1000) * 50 + (i / 1000 % 50)]);
        }
        volatile auto n = b.buckets().size();
        (void)n;
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    UserHash keyed(SipKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL}), unkeyed;
    std::vector<double> k, u;
    for (int r = 0; r < 9; ++r) { u.push_back(run(unkeyed)); k.push_back(run(keyed)); }
    std::sort(k.begin(), k.end()); std::sort(u.begin(), u.end());
    std::printf("EventRollupBatch, 1,000,000 events: unkeyed median %.1f ms, keyed median %.1f ms (min %.1f / %.1f)\n", u[4], k[4], u[0], k[0]);
}
