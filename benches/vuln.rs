//! Vulnerability matching speed and memory (not a test): 2,000 components across Debian, PyPI, npm, Go
//! and Maven against an osv.dev-style all.zip of 200,000 records (`bench/osv_fixture.py`, which
//! `make bench` runs once and caches). Prints load + match time (median of 3) and the process's peak
//! RSS; the targets are under 2 s and under 300 MiB.
//!
//! `VOUCH_OSV_BENCH_DB=PATH cargo bench --bench vuln`

use std::time::Instant;
use vouch::sbom::read::Component;
use vouch::vuln::{db::Database, match_components, wanted_keys};

fn components() -> Vec<Component> {
    (0..2000usize)
        .map(|i| {
            let n = (i * 7919) % 20000;
            let (purl, version, purl_type) = match i % 5 {
                0 => (
                    format!("pkg:deb/debian/pkg-{n}@2.3.0-1?arch=amd64&distro=debian-12"),
                    "2.3.0-1".to_string(),
                    "deb",
                ),
                1 => (format!("pkg:pypi/pkg-{n}@2.3.0"), "2.3.0".into(), "pypi"),
                2 => (format!("pkg:npm/pkg-{n}@2.3.0"), "2.3.0".into(), "npm"),
                3 => (
                    format!("pkg:golang/github.com/example/pkg-{n}@v2.3.0"),
                    "v2.3.0".into(),
                    "golang",
                ),
                _ => (
                    format!("pkg:maven/org.example/pkg-{n}@2.3.0"),
                    "2.3.0".into(),
                    "maven",
                ),
            };
            Component {
                name: format!("pkg-{n}"),
                version,
                purl,
                purl_type: purl_type.into(),
                ..Default::default()
            }
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
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

fn main() {
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
    let components = components();
    let wanted = wanted_keys(&components);
    let mut times = Vec::new();
    let mut summary = String::new();
    for _ in 0..3 {
        let start = Instant::now();
        let db = Database::load(std::path::Path::new(&path), &wanted).expect("the database loads");
        let (findings, warnings) = match_components(&components, &db);
        times.push(start.elapsed().as_secs_f64());
        summary = format!(
            "{} records read, {} kept, {} findings, {} warnings",
            db.records_read,
            db.records.values().map(Vec::len).sum::<usize>(),
            findings.len(),
            warnings.len() + db.warnings.len()
        );
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "vulnerability matching: 2000 components against {path}: median {:.2} s, peak RSS {:.0} MiB ({summary})",
        times[1],
        peak_rss_mib()
    );
}
