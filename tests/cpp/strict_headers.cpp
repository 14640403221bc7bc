// Compiled with -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion
// -Wpedantic -Werror at C++17 and C++20, by GCC (tests/cpp/CMakeLists.txt)
// and by clang++ (tests/python/test_strict_headers.py): users who build
// their code with those flags get no warning from ours, whichever public
// header they include (strict_python_headers.cpp: those that need Python.h).
#include <fastchan/buffered.hpp>
#include <fastchan/channel.hpp>
#include <fastchan/select.hpp>
#include <fastchan/shm/queue.hpp>
#include <fastchan/shm/ring.hpp>
#include <fastchan/status.hpp>
#include <fastchan/thread_pool.hpp>
#include <fastchan/wait_policy.hpp>
#include <fastchan/waiter.hpp>
#include <fastchan/work_queue.hpp>

// Instantiate the templates a user would, so their bodies are checked too.
int main() {
    fastchan::Channel<long> bounded(4), rendezvous(0), unbounded(fastchan::unbounded);
    long value = 1;
    bounded.try_send(std::move(value));
    auto got = bounded.try_recv();
    unbounded.send(2);
    fastchan::Select select;
    std::optional<long> out;
    select.recv(bounded, out);
    select.recv(rendezvous, out);
    select.wait_for(std::chrono::milliseconds(1));
#if FASTCHAN_HAS_SHM
    {  // the shared ring's templates (a segment is made and removed)
        auto ring = fastchan::shm::Ring::create(1024, 0);
        char in[3] = {'a', 'b', 'c'}, taken[3] = {};
        ring.put(in, sizeof in, fastchan::detail::Clock::now() + std::chrono::seconds(1));
        ring.get([&](std::size_t) -> void* { return taken; });
        if (taken[2] != 'c') return 1;
    }
    {  // the typed queues' templates
        auto words = fastchan::shm::Queue<std::int64_t>::create(1024);
        std::int64_t v = 1;
        words.put_for(v, std::chrono::seconds(1));
        words.get_many(&v, 1);
        auto texts = fastchan::shm::Queue<std::string>::create(1024);
        std::string s = "x";
        texts.put_many(&s, 1);
        texts.get_for(s, std::chrono::milliseconds(1));
        auto reals = fastchan::shm::Queue<double>::create(1024);
        reals.try_put(1.0);
        double d = 0;
        if (reals.try_get(d) != fastchan::Status::ok || d != 1.0 || v != 1 || s != "x") return 1;
    }
#endif
    fastchan::ThreadPool pool(1);
    auto future = pool.submit([] { return 3; });
    return got && future.get() == 3 ? 0 : 1;
}
