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
#include <fastchan/select.hpp>

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

// One producer alternates between two rendezvous channels; the consumer
// takes from whichever is ready through a fastchan::Select.
double ns_per_item_select(std::int64_t items) {
    fastchan::Channel<std::int64_t> a(0), b(0);
    std::int64_t sum = 0;
    auto start = Clock::now();
    std::thread consumer([&] {
        std::int64_t local = 0;
        std::optional<std::int64_t> from_a, from_b;
        fastchan::Select select;
        std::size_t case_a = select.recv(a, from_a);
        select.recv(b, from_b);
        for (;;) {
            fastchan::SelectResult r = select.wait();
            if (r.status == fastchan::Status::closed) {
                // One is closed: the producer is done; the other has at most its last item.
                auto& other = r.index == case_a ? b : a;
                while (auto v = other.recv()) local += *v;
                break;
            }
            local += r.index == case_a ? *from_a : *from_b;
        }
        sum = local;
    });
    for (std::int64_t i = 0; i < items; ++i) (i % 2 ? a : b).send(i);
    a.close();
    b.close();
    consumer.join();
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    if (sum != items * (items - 1) / 2) {
        std::fprintf(stderr, "items lost or duplicated\n");
        std::exit(1);
    }
    return ns / static_cast<double>(items);
}

struct Scenario {
    const char* name;
    std::size_t capacity;
    int producers;  // -1: the select scenario
    std::int64_t items;
};

}  // namespace

int main(int argc, char** argv) {
    int repeat = argc > 1 ? std::atoi(argv[1]) : 7;
    const Scenario scenarios[] = {
        {"1 producer / 1 consumer, capacity 1024", 1024, 1, 2'000'000},
        {"4 producers / 1 consumer, capacity 10", 10, 4, 400'000},
        {"rendezvous (capacity 0), 1 / 1", 0, 1, 200'000},
        // Rust's std has no select: its side runs the plain rendezvous.
        {"select over 2 rendezvous channels, 1 / 1", 0, -1, 200'000},
    };
    std::printf("| scenario | fastchan::Channel ns/item (median of %d) |\n|---|---:|\n", repeat);
    for (const auto& s : scenarios) {
        std::vector<double> runs;
        for (int r = 0; r < repeat; ++r) {
            runs.push_back(s.producers < 0 ? ns_per_item_select(s.items)
                                           : ns_per_item(s.capacity, s.producers, s.items));
        }
        std::sort(runs.begin(), runs.end());
        std::printf("| %s | %.1f |\n", s.name, runs[runs.size() / 2]);
    }
}
