"""Consumes, with ``async for``, what squares.Producer's C++ thread sends
into a fastchan channel. Build the extension first (see CMakeLists.txt)."""

import asyncio

import fastchan
import squares


async def main() -> None:
    channel: fastchan.Channel[int] = fastchan.Channel(256, dtype="int64")
    producer = squares.Producer(channel, 1000)
    count = total = 0
    async for n in channel:  # ends when the producer closes the channel
        count += 1
        total += n
    producer.join()
    print(f"{count} squares, sum {total}")


asyncio.run(main())
