"""The Go seed program (tutorial_go_channel.go) with fastchan.Channel: an
unbuffered channel, a goroutine (a thread), close, and range. It prints what
the Go program prints."""

import threading
import time

import fastchan


def producer(channel: fastchan.Channel[int]) -> None:
    for num in range(5):
        channel.send(num)  # channel <- num: returns once the consumer has it
        time.sleep(1)
    channel.close()


def consumer(channel: fastchan.Channel[int]) -> None:
    for item in channel:  # for item := range channel
        print(f"Got number {item}")


def main() -> None:
    channel: fastchan.Channel[int] = fastchan.Channel()  # make(chan int)

    # go consumer(channel): like a goroutine, it does not keep the program alive
    threading.Thread(target=consumer, args=(channel,), daemon=True).start()
    producer(channel)

    print("Done!")


main()
