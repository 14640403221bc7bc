// The Go seed program (tutorial_go_channel.go) with fastchan::Channel: an
// unbuffered channel, a goroutine (a thread), close, and range. It prints
// what the Go program prints.
#include <chrono>
#include <cstdio>
#include <thread>

#include <fastchan/channel.hpp>

void producer(fastchan::Channel<int>& channel) {
    for (int num = 0; num < 5; num++) {
        channel.send(num);  // channel <- num: returns once the consumer has it
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    channel.close();
}

void consumer(fastchan::Channel<int>& channel) {
    while (auto item = channel.recv()) {  // for item := range channel
        std::printf("Got number %d\n", *item);
        std::fflush(stdout);
    }
}

int main() {
    fastchan::Channel<int> channel(0);  // make(chan int)

    std::thread goroutine(consumer, std::ref(channel));  // go consumer(channel)
    producer(channel);

    std::printf("Done!\n");
    goroutine.join();  // already done: the range ended when the channel closed
}
