// Numbers flow through a bounded channel to two pool workers, which square
// them; a select takes the squares and a "workers done" signal from two
// channels, whichever is ready. Prints the count and the sum of the squares.
#include <cstdio>
#include <optional>
#include <thread>

#include <fastchan/channel.hpp>
#include <fastchan/select.hpp>
#include <fastchan/thread_pool.hpp>

int main() {
    constexpr int kNumbers = 1000;
    fastchan::Channel<int> numbers(16);
    fastchan::Channel<long long> squares(0);  // rendezvous
    fastchan::Channel<int> done(0);

    std::thread producer([&] {
        for (int i = 1; i <= kNumbers; ++i) numbers.send(i);
        numbers.close();  // workers drain it, then stop
    });

    fastchan::ThreadPool pool(2);
    auto square = [&] {
        while (std::optional<int> n = numbers.recv()) squares.send(static_cast<long long>(*n) * *n);
        done.send(1);
    };
    auto first = pool.submit(square);
    auto second = pool.submit(square);

    long long sum = 0;
    int count = 0;
    for (int finished = 0; finished < 2;) {
        std::optional<long long> square_in;
        std::optional<int> done_in;
        fastchan::Select select;
        std::size_t from_squares = select.recv(squares, square_in);
        select.recv(done, done_in);
        fastchan::SelectResult r = select.wait();
        if (r.index == from_squares) {
            sum += *square_in;
            ++count;
        } else {
            ++finished;
        }
    }
    first.get();
    second.get();
    producer.join();
    std::printf("%d squares, sum %lld\n", count, sum);  // 1000 squares, sum 333833500
    return 0;
}
