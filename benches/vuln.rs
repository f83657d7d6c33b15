//! Vulnerability matching speed and memory (not a test): 2,000 components across Debian, PyPI, npm, Go
//! and Maven against an osv.dev-style all.zip of 200,000 records (`bench/osv_fixture.py`, which
//! `make bench` runs once and caches). Prints load + match time (median of 3) and the process's peak
//! RSS; the targets are under 2 s and under 300 MiB.
//!
//! `VOUCH_OSV_BENCH_DB=PATH cargo bench --bench vuln`

#[path = "support/osv.rs"]
mod osv_bench;

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

fn main() {
    let path = osv_bench::database();
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
        osv_bench::peak_rss_mib()
    );
}
