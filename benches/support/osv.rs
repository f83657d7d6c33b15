//! What the OSV benchmarks (`vuln`, `rejudge`) share: the database they read and the peak RSS they
//! report. Included by each with `#[path]` (benches are crates of their own).

/// The benchmark database: `VOUCH_OSV_BENCH_DB`, else the one `make bench` caches; the process
/// exits saying how to make it when it is not there.
pub fn database() -> String {
    let path = std::env::var("VOUCH_OSV_BENCH_DB").unwrap_or_else(|_| {
        format!(
            "{}/.cache/vouch-test/osv-200k.zip",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    if !std::path::Path::new(&path).exists() {
        eprintln!("no benchmark database at {path}: run `python3 bench/osv_fixture.py {path}`");
        std::process::exit(1);
    }
    path
}

/// The process's peak resident set, in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
