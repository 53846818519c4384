//! The native baseline: the benchmark's workloads (see ../../workloads.mjs) done
//! by a Rust program with rusqlite, so every driver's figure can be stated as a
//! share of native SQLite speed. Rows are read into an owned struct, as a Rust
//! application would (the JS drivers likewise build a JS value per column).
//!
//! Usage: `bench-native <db> <warmup-ms> <time-ms> [workload...]`; prints one JSON line.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, params};

/// Same as ROWS and PAGE in workloads.mjs (ROWS from BENCH_ROWS).
const PAGE: i64 = 100;

/// The pragmas hardened-sqlite sets (PRAGMAS in workloads.mjs).
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; \
    PRAGMA mmap_size = 0; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000; \
    PRAGMA journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = 1000";

const GET: &str = "SELECT id, n, r, t, b, z FROM items WHERE id = ?";
const PAGE_SQL: &str = "SELECT id, n, r, t, b, z FROM items WHERE id >= ? ORDER BY id LIMIT 100";
const INSERT: &str = "INSERT INTO writes (n, r, t, b, z) VALUES (?, ?, ?, ?, ?)";

const WORKLOADS: [&str; 7] = ["get", "all", "iterate", "insert", "insert100", "prepare", "open"];

/// One row of `items`, owned.
#[allow(dead_code)]
struct Row {
    id: i64,
    n: i64,
    r: f64,
    t: String,
    b: Vec<u8>,
    z: Option<i64>,
}

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row { id: row.get(0)?, n: row.get(1)?, r: row.get(2)?, t: row.get(3)?, b: row.get(4)?, z: row.get(5)? })
}

/// The values of row `i` (rowValues in workloads.mjs).
fn row_values(i: i64) -> (i64, f64, String, Vec<u8>) {
    let t: String = format!("item {i:08} lorem ipsum d").chars().take(30).collect();
    let b = (0..64).map(|k| ((i + k * 31) & 0xff) as u8).collect();
    (i * 7, i as f64 * 0.5 + 0.25, t, b)
}

fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.execute_batch(PRAGMAS)?;
    Ok(conn)
}

fn batch(workload: &str) -> u64 {
    match workload {
        "get" => 1000,
        "all" | "iterate" => 20,
        "insert" => 50,
        "prepare" => 100,
        _ => 2,
    }
}

/// Runs `f(i)` for `warmup`, then for at least `time`; returns calls per second.
fn measure(workload: &str, warmup: Duration, time: Duration, mut f: impl FnMut(u64) -> rusqlite::Result<()>) -> rusqlite::Result<f64> {
    let batch = batch(workload);
    let mut i = 0;
    let warm_end = Instant::now() + warmup;
    while Instant::now() < warm_end {
        for _ in 0..batch {
            f(i)?;
            i += 1;
        }
    }
    let start = Instant::now();
    let mut ops = 0;
    loop {
        for _ in 0..batch {
            f(i)?;
            i += 1;
        }
        ops += batch;
        let elapsed = start.elapsed();
        if elapsed >= time {
            return Ok(ops as f64 / elapsed.as_secs_f64());
        }
    }
}

fn run(path: &str, warmup: Duration, time: Duration, only: &[String]) -> rusqlite::Result<String> {
    let rows: i64 = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let conn = open(path)?;
    conn.execute("DELETE FROM writes", [])?;
    let new_rows: Vec<_> = (0..PAGE).map(|k| row_values(rows + k)).collect();
    let get_id = |i: u64| (i as i64 * 7919) % rows + 1;
    let page_start = |i: u64| (i as i64 * 7919) % (rows - PAGE) + 1;
    let mut results = Vec::new();
    let workloads: Vec<&str> =
        if only.is_empty() { WORKLOADS.to_vec() } else { only.iter().map(String::as_str).collect() };
    for workload in workloads {
        let ops = match workload {
            "get" => {
                let mut stmt = conn.prepare(GET)?;
                measure(workload, warmup, time, |i| {
                    black_box(stmt.query_row([get_id(i)], read)?);
                    Ok(())
                })?
            }
            "all" => {
                let mut stmt = conn.prepare(PAGE_SQL)?;
                measure(workload, warmup, time, |i| {
                    let all = stmt.query_map([page_start(i)], read)?.collect::<rusqlite::Result<Vec<Row>>>()?;
                    black_box(all);
                    Ok(())
                })?
            }
            "iterate" => {
                let mut stmt = conn.prepare(PAGE_SQL)?;
                measure(workload, warmup, time, |i| {
                    let mut rows = stmt.query([page_start(i)])?;
                    while let Some(row) = rows.next()? {
                        black_box(read(row)?);
                    }
                    Ok(())
                })?
            }
            "insert" => {
                let mut stmt = conn.prepare(INSERT)?;
                measure(workload, warmup, time, |i| {
                    let (n, r, t, b) = &new_rows[(i % PAGE as u64) as usize];
                    stmt.execute(params![n, r, t, b, None::<i64>])?;
                    Ok(())
                })?
            }
            "insert100" => measure(workload, warmup, time, |_| {
                let tx = conn.unchecked_transaction()?;
                {
                    let mut stmt = tx.prepare_cached(INSERT)?;
                    for (n, r, t, b) in &new_rows {
                        stmt.execute(params![n, r, t, b, None::<i64>])?;
                    }
                }
                tx.commit()
            })?,
            "prepare" => measure(workload, warmup, time, |i| {
                // Prepared for one call and finalized, without rusqlite's statement cache.
                let mut stmt = conn.prepare(GET)?;
                black_box(stmt.query_row([get_id(i)], read)?);
                Ok(())
            })?,
            "open" => measure(workload, warmup, time, |_| {
                open(path)?.close().map_err(|(_, e)| e)
            })?,
            other => panic!("unknown workload {other}"),
        };
        results.push(format!("\"{workload}\":{ops}"));
    }
    conn.execute("DELETE FROM writes", [])?;
    Ok(format!(
        "{{\"driver\":\"native\",\"version\":\"rusqlite 0.41\",\"runtime\":\"rust (release)\",\"sqliteVersion\":\"{}\",\"results\":{{{}}}}}",
        rusqlite::version(),
        results.join(",")
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: bench-native <db> <warmup-ms> <time-ms> [workload...]");
        std::process::exit(2);
    }
    let ms = |s: &str| Duration::from_millis(s.parse().unwrap_or(300));
    match run(&args[0], ms(&args[1]), ms(&args[2]), &args[3..]) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("bench-native: {e}");
            std::process::exit(1);
        }
    }
}
