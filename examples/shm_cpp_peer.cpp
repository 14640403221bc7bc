// A C++ program on the same shared-memory queues as Python's
// fastchan.ProcessQueue(dtype=...), reached by name.
//
//   shm_cpp_peer echo int64|float64|bytes IN OUT
//       Moves every item of the queue IN (made by Python) to OUT, in
//       batches, until IN is shut down and drained; prints how many.
//   shm_cpp_peer serve int64|float64|bytes N
//       Makes a queue, prints its name, waits for a line on stdin (Python
//       attached), puts the items 0..N-1 (bytes: their decimal text) and
//       shuts the queue down.
//
// Build: g++ -std=c++17 $(python -m fastchan --includes) shm_cpp_peer.cpp -pthread -lrt
// (-lrt: shm_open lived in librt before glibc 2.34; CMake users link fastchan::fastchan)
#include <fastchan/shm/queue.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#if FASTCHAN_HAS_SHM

namespace shm = fastchan::shm;
using fastchan::Status;

template <class T>
T make_item(std::size_t i) {
    if constexpr (std::is_same_v<T, std::string>) {
        return std::to_string(i);
    } else {
        return static_cast<T>(i);
    }
}

template <class T>
int echo(const std::string& in_name, const std::string& out_name) {
    auto in = shm::Queue<T>::open(in_name);
    auto out = shm::Queue<T>::open(out_name);
    std::vector<T> batch(1024);
    std::size_t moved = 0;
    for (;;) {
        // Every wait has a deadline: a peer that went away fails, never hangs.
        auto deadline = fastchan::detail::Clock::now() + std::chrono::seconds(60);
        auto [n, s] = in.get_many(batch.data(), batch.size(), deadline);
        if (s == Status::closed) break;
        if (s != Status::ok) return 2;
        auto [put, ps] = out.put_many(batch.data(), n, fastchan::detail::Clock::now() + std::chrono::seconds(60));
        if (ps != Status::ok || put != n) return 3;
        moved += n;
    }
    std::cout << moved << std::endl;
    return 0;
}

template <class T>
int serve(std::size_t n) {
    auto q = shm::Queue<T>::create(1 << 16);
    std::cout << q.name() << std::endl;
    std::string line;
    if (!std::getline(std::cin, line)) return 4;  // the other side went away before attaching
    for (std::size_t i = 0; i < n; ++i) {
        if (q.put_for(make_item<T>(i), std::chrono::seconds(60)) != Status::ok) return 5;
    }
    q.shutdown();
    return 0;
}

template <class T>
int run(const std::string& mode, char** argv) {
    if (mode == "echo") return echo<T>(argv[3], argv[4]);
    return serve<T>(static_cast<std::size_t>(std::strtoull(argv[3], nullptr, 10)));
}

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: shm_cpp_peer echo TYPE IN OUT | serve TYPE N\n";
        return 1;
    }
    std::string mode = argv[1], type = argv[2];
    if (mode == "echo" && argc < 5) return 1;
    try {
        if (type == "int64") return run<std::int64_t>(mode, argv);
        if (type == "float64") return run<double>(mode, argv);
        if (type == "bytes") return run<std::string>(mode, argv);
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 6;
    }
    return 1;
}

#else

int main() {
    std::cerr << "no shared-memory queues on this platform\n";
    return 1;
}

#endif
