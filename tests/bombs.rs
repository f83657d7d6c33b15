//! Small hostile images that used to drive the layer pass to gigabytes of memory or to hang: hard
//! links re-copying a kept file, a GNU long name read whole, an rpm database whose `Packages` is a
//! recursive view, and per-layer caps that added up across layers. Each is read by the real binary
//! (`sbom docker-archive:`), whose peak RSS (from `wait4`) must stay under 256 MiB, with a warning
//! naming what was cut and every good package of the image still reported.

mod support;

use std::path::Path;
use support::*;

/// The most a hostile image may make vouch use.
const PEAK_RSS_LIMIT_KIB: i64 = 256 * 1024;

/// Measures a command's peak RSS from a small parent of its own: a child forked from this test
/// process would inherit its high-water mark (the archives are built in memory here).
const MEASURE: &str = r#"
import resource, subprocess, sys
try:
    done = subprocess.run(sys.argv[2:], stdout=open("stdout", "wb"), stderr=open("stderr", "wb"),
                          timeout=float(sys.argv[1]))
    code = done.returncode
except subprocess.TimeoutExpired:
    code = 124
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"#;

/// Runs `sbom docker-archive:img.tar` in `dir` (a hang past 120 s fails the test), and returns its
/// exit code, standard output, standard error and peak RSS in KiB.
fn sbom_with_peak_rss(dir: &Path) -> (i32, Vec<u8>, String, i64) {
    let out = std::process::Command::new("python3")
        .args(["-c", MEASURE, "120"])
        .arg(vouch().get_program())
        .args(["sbom", "docker-archive:img.tar"])
        .current_dir(dir)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    let mut fields = report.split_whitespace().map(|f| f.parse::<i64>().unwrap());
    let (code, peak) = (fields.next().unwrap(), fields.next().unwrap());
    let stderr = std::fs::read_to_string(dir.join("stderr")).unwrap();
    assert_ne!(code, 124, "timed out after 120 s: {stderr}");
    (
        code as i32,
        std::fs::read(dir.join("stdout")).unwrap(),
        stderr,
        peak,
    )
}

/// A layer with Debian's `bash` in the dpkg status: the good package that must survive.
fn good_layer() -> Vec<u8> {
    Layer::new()
        .file(
            "var/lib/dpkg/status",
            &dpkg_paragraph("bash", "5.2.15-2+b2"),
        )
        .bytes()
}

fn assert_survives(layers: Vec<Vec<u8>>, warning: &str) {
    let archive = TestImage::new(layers).docker_archive("bomb:1");
    let dir = dir_with_archive(&archive);
    drop(archive);
    let (code, stdout, stderr, peak) = sbom_with_peak_rss(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        peak <= PEAK_RSS_LIMIT_KIB,
        "peak RSS {} MiB is over 256 MiB; stderr: {stderr}",
        peak / 1024
    );
    assert!(stderr.contains(warning), "{warning:?} not in: {stderr}");
    let sbom = valid_cyclonedx(&stdout);
    assert!(
        packages(&sbom).iter().any(|p| p.0 == "bash"),
        "bash is still reported"
    );
    eprintln!("peak RSS {} MiB", peak / 1024);
}

#[test]
fn hard_links_share_the_kept_bytes() {
    // One 4 MiB METADATA and 300 hard links to it, each where the Python cataloger looks: a copy
    // per link was 1.2 GB.
    let body = format!(
        "Metadata-Version: 2.1\nName: big\nVersion: 1.0\n\n{}",
        "x".repeat(4 * 1024 * 1024)
    );
    let mut layer = Layer::new().file("app/big-1.0.dist-info/METADATA", &body);
    for i in 0..300 {
        layer = layer.hardlink(
            &format!("app/l{i}-1.0.dist-info/METADATA"),
            "app/big-1.0.dist-info/METADATA",
        );
    }
    let archive = TestImage::new(vec![layer.bytes(), good_layer()]).docker_archive("bomb:1");
    let dir = dir_with_archive(&archive);
    let (code, stdout, stderr, peak) = sbom_with_peak_rss(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(peak <= PEAK_RSS_LIMIT_KIB, "peak RSS {} MiB", peak / 1024);
    let sbom = valid_cyclonedx(&stdout);
    let found = packages(&sbom);
    assert!(found.iter().any(|p| p.0 == "bash"));
    // Each link is read as the file it is, until the links add up to 1 GiB (255 of 4 MiB); the
    // rest are named in warnings.
    let big = found.iter().filter(|p| p.0 == "big").count();
    assert_eq!(big, 256, "{stderr}");
    assert!(
        stderr.contains("app/l299-1.0.dist-info/METADATA: hardlink to app/big-1.0.dist-info/METADATA: the image's hard links to cataloged files already add up to 1073741824 bytes (the limit); skipped"),
        "{stderr}"
    );
}

#[test]
fn a_huge_long_name_is_not_read() {
    // A GNU long name declaring (and holding) 200 MiB: the tar crate read it whole, and vouch
    // copied it twice more.
    let layer = Layer::new()
        .gnu_long_name(200 * 1024 * 1024)
        .file("usr/share/doc/x", "x")
        .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
    assert_survives(
        vec![layer.bytes(), good_layer()],
        "a long name of 209715200 bytes",
    );
}

#[test]
fn an_rpm_database_whose_packages_is_a_view_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rpmdb.sqlite");
    let made = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             c.executescript('CREATE TABLE real(blob BLOB); CREATE VIEW Packages AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT randomblob(1000000) AS blob FROM n;')\n\
             c.commit()\n",
        )
        .arg(&db)
        .output()
        .expect("python3 runs");
    assert!(made.status.success(), "{}", stderr(&made));
    let bytes = std::fs::read(&db).unwrap();
    let layer = Layer::new()
        .file("etc/os-release", "ID=rhel\nVERSION_ID=\"9.4\"\n")
        .file_bytes("var/lib/rpm/rpmdb.sqlite", &bytes);
    assert_survives(
        vec![layer.bytes(), good_layer()],
        "Packages is a view, not a table",
    );
}

#[test]
fn the_kept_bytes_budget_is_one_for_the_whole_image() {
    // Four layers of 120 MiB of wanted files each: under a per-layer cap, all were kept.
    let body = format!(
        "Metadata-Version: 2.1\nName: fat\nVersion: 1.0\n\n{}",
        "y".repeat(30 * 1024 * 1024)
    );
    let mut layers: Vec<Vec<u8>> = (0..4)
        .map(|l| {
            let mut layer = Layer::new();
            for f in 0..4 {
                layer = layer.file(&format!("app/f{l}x{f}-1.0.dist-info/METADATA"), &body);
            }
            layer.bytes()
        })
        .collect();
    layers.push(good_layer());
    assert_survives(layers, "bytes of cataloged files (the limit); skipped");
}
