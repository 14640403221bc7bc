//! The peer for benchmarks/bench_channel.cpp: Rust's std::sync::mpsc::sync_channel
//! (crossbeam's algorithm inside std) on the same scenarios, ns per item.
use std::sync::mpsc::sync_channel;
use std::thread;
use std::time::Instant;

fn ns_per_item(capacity: usize, producers: i64, items: i64) -> f64 {
    let (tx, rx) = sync_channel::<i64>(capacity);
    let per_producer = items / producers;
    let start = Instant::now();
    let consumer = thread::spawn(move || rx.iter().sum::<i64>());
    let senders: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..per_producer {
                    tx.send(i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    for s in senders {
        s.join().unwrap();
    }
    let sum = consumer.join().unwrap();
    let ns = start.elapsed().as_nanos() as f64;
    assert_eq!(sum, producers * (per_producer * (per_producer - 1) / 2), "items lost");
    ns / (producers * per_producer) as f64
}

fn main() {
    let repeat: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    // std has no select: for fastchan's "select over 2 rendezvous channels"
    // scenario the peer is its plain rendezvous, the best std offers.
    let scenarios: [(&str, usize, i64, i64); 4] = [
        ("1 producer / 1 consumer, capacity 1024", 1024, 1, 2_000_000),
        ("4 producers / 1 consumer, capacity 10", 10, 4, 400_000),
        ("rendezvous (capacity 0), 1 / 1", 0, 1, 200_000),
        ("select over 2 rendezvous channels, 1 / 1", 0, 1, 200_000),
    ];
    println!("| scenario | Rust sync_channel ns/item (median of {}) |\n|---|---:|", repeat);
    for (name, capacity, producers, items) in scenarios {
        let mut runs: Vec<f64> = (0..repeat).map(|_| ns_per_item(capacity, producers, items)).collect();
        runs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("| {} | {:.1} |", name, runs[runs.len() / 2]);
    }
}
