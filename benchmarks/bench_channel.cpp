// fastchan::Channel<int64_t> throughput, ns per item (median of several runs).
//
//   cmake -S . -B build/bench -DFASTCHAN_BUILD_BENCHMARKS=ON && cmake --build build/bench
//   build/bench/bench_channel [repeat]
//
// The same scenarios as rust_peer/ (std::sync::mpsc::sync_channel);
// benchmarks/run_core_vs_rust.sh runs both side by side.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <fastchan/channel.hpp>

namespace {

using Clock = std::chrono::steady_clock;

// `producers` threads send `items` in all; one consumer receives until closed.
double ns_per_item(std::size_t capacity, int producers, std::int64_t items) {
    fastchan::Channel<std::int64_t> ch(capacity);
    std::int64_t per_producer = items / producers;
    std::int64_t sum = 0;
    auto start = Clock::now();
    std::thread consumer([&] {
        std::int64_t local = 0;  // not `sum`: a shared stack line would skew the figure
        while (auto v = ch.recv()) local += *v;
        sum = local;
    });
    std::vector<std::thread> senders;
    for (int p = 0; p < producers; ++p) {
        senders.emplace_back([&] {
            for (std::int64_t i = 0; i < per_producer; ++i) ch.send(i);
        });
    }
    for (auto& t : senders) t.join();
    ch.close();
    consumer.join();
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    std::int64_t expected = producers * (per_producer * (per_producer - 1) / 2);
    if (sum != expected) {
        std::fprintf(stderr, "items lost or duplicated\n");
        std::exit(1);
    }
    return ns / static_cast<double>(producers * per_producer);
}

struct Scenario {
    const char* name;
    std::size_t capacity;
    int producers;
    std::int64_t items;
};

}  // namespace

int main(int argc, char** argv) {
    int repeat = argc > 1 ? std::atoi(argv[1]) : 7;
    const Scenario scenarios[] = {
        {"1 producer / 1 consumer, capacity 1024", 1024, 1, 2'000'000},
        {"4 producers / 1 consumer, capacity 10", 10, 4, 400'000},
        {"rendezvous (capacity 0), 1 / 1", 0, 1, 200'000},
    };
    std::printf("| scenario | fastchan::Channel ns/item (median of %d) |\n|---|---:|\n", repeat);
    for (const auto& s : scenarios) {
        std::vector<double> runs;
        for (int r = 0; r < repeat; ++r) runs.push_back(ns_per_item(s.capacity, s.producers, s.items));
        std::sort(runs.begin(), runs.end());
        std::printf("| %s | %.1f |\n", s.name, runs[runs.size() / 2]);
    }
}
