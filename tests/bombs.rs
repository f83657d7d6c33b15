//! Small hostile images that used to drive the layer pass to gigabytes of memory or to hang: hard
//! links re-copying a kept file, a GNU long name read whole, an rpm database whose `Packages` is a
//! recursive view, per-layer caps that added up across layers, and a dpkg status of 200,000
//! packages (60 MB, a 250 MB SBOM) that every output format once held whole. Each is read by the real binary
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
    let (code, stderr, peak) = run_with_peak_rss(dir, &["sbom", "docker-archive:img.tar"]);
    (
        code,
        std::fs::read(dir.join("stdout")).unwrap(),
        stderr,
        peak,
    )
}

/// Runs vouch with `args` in `dir`, its standard output into `dir/stdout`; returns its exit code,
/// standard error and peak RSS in KiB.
fn run_with_peak_rss(dir: &Path, args: &[&str]) -> (i32, String, i64) {
    let out = std::process::Command::new("python3")
        .args(["-c", MEASURE, "120"])
        .arg(vouch().get_program())
        .args(args)
        // The keys these tests make have an empty password.
        .env("VOUCH_PASSWORD", "")
        .current_dir(dir)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    let mut fields = report.split_whitespace().map(|f| f.parse::<i64>().unwrap());
    let (code, peak) = (fields.next().unwrap(), fields.next().unwrap());
    let stderr = std::fs::read_to_string(dir.join("stderr")).unwrap();
    assert_ne!(code, 124, "timed out after 120 s: {stderr}");
    (code as i32, stderr, peak)
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

/// What the 200,000-package SBOMs are checked for: names, and the dependency edges they list.
#[derive(serde::Deserialize)]
struct CycloneDx {
    components: Vec<Named>,
    dependencies: Vec<DependencyEntry>,
}

#[derive(serde::Deserialize)]
struct Named {
    name: String,
}

#[derive(serde::Deserialize)]
struct DependencyEntry {
    #[serde(rename = "dependsOn", default)]
    depends_on: Vec<String>,
}

#[derive(serde::Deserialize)]
struct Spdx {
    packages: Vec<Named>,
    relationships: Vec<serde::de::IgnoredAny>,
}

/// A directory holding `img.tar`: an image whose dpkg status lists `count` packages, each
/// depending on the next and on libc6 (through a Provides of package 0), 300 bytes a paragraph as
/// dpkg writes them; and Debian's bash in a distroless `status.d` of a second layer.
fn dpkg_image(count: usize) -> tempfile::TempDir {
    let mut status = String::with_capacity(count * 300);
    for i in 0..count {
        let provides = if i == 0 { "Provides: libc6\n" } else { "" };
        status.push_str(&format!(
            "Package: pkg{i}\nStatus: install ok installed\nPriority: optional\nSection: libs\n\
             Installed-Size: 100\nMaintainer: Someone <someone@example.org>\nArchitecture: amd64\n\
             Source: src{i}\nVersion: 1.{i}-1\n{provides}Depends: pkg{} (>= 1.0), libc6 (>= 2.36)\n\
             Description: package number {i}\n more text here\n\n",
            (i + 1) % count
        ));
    }
    let layers = vec![
        Layer::new().file("var/lib/dpkg/status", &status).bytes(),
        Layer::new()
            .file(
                "var/lib/dpkg/status.d/bash",
                &dpkg_paragraph("bash", "5.2.15-2+b2"),
            )
            .bytes(),
    ];
    drop(status);
    let archive = TestImage::new(layers).docker_archive("bomb:1");
    dir_with_archive(&archive)
}

/// Makes a key pair in `dir` and attests `img.tar` into `dir/out` with it, as
/// [`run_with_peak_rss`] runs commands.
fn attest_with_peak_rss(dir: &Path) -> (i32, String, i64) {
    keygen(dir);
    let (code, stderr, peak) = run_with_peak_rss(
        dir,
        &[
            "attest",
            "--key",
            "k.key",
            "--output-dir",
            "out",
            "docker-archive:img.tar",
        ],
    );
    eprintln!("attest: peak RSS {} MiB", peak / 1024);
    (code, stderr, peak)
}

/// Makes `k.key` (empty password) and `k.pub` in `dir`.
fn keygen(dir: &Path) {
    let keygen = vouch()
        .args(["keygen", "--output-key-prefix", "k"])
        .env("VOUCH_PASSWORD", "")
        .current_dir(dir)
        .output()
        .expect("keygen runs");
    assert!(
        keygen.status.success(),
        "{}",
        String::from_utf8_lossy(&keygen.stderr)
    );
}

/// The largest SBOM that can be attested: 58,000 packages make a 64.5 MB envelope, just under the
/// 64 MiB verification reads. Signing it once took 718 MiB (the SBOM as a JSON value, then copied
/// into the statement, the base64 payload, the envelope and bundle values and their pretty
/// bytes); verifying it took 382 MiB (the SBOM predicate made a value). Both stay under 256 MiB,
/// and the set verifies.
#[test]
fn the_largest_attestable_sbom_is_signed_and_verified_in_bounded_memory() {
    const COUNT: usize = 58_000;
    let dir = dpkg_image(COUNT);
    let (code, stderr, peak) = attest_with_peak_rss(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        peak <= PEAK_RSS_LIMIT_KIB,
        "attest: peak RSS {} MiB is over 256 MiB",
        peak / 1024
    );
    let set = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .next()
        .expect("a set was written")
        .unwrap()
        .path();
    let envelope_size = std::fs::metadata(set.join("sbom.dsse.json")).unwrap().len();
    assert!(
        (56 << 20..=64 << 20).contains(&envelope_size),
        "the envelope ({envelope_size} bytes) is near the 64 MiB limit, under it"
    );
    let sbom: CycloneDx = serde_json::from_reader(std::io::BufReader::new(
        std::fs::File::open(set.join("sbom.cdx.json")).unwrap(),
    ))
    .expect("the set's SBOM is CycloneDX JSON");
    assert_eq!(sbom.components.len(), COUNT + 1, "every package and bash");

    let (code, stderr, peak) = run_with_peak_rss(
        dir.path(),
        &[
            "verify",
            "--key",
            "k.pub",
            "--attestations",
            "out",
            "docker-archive:img.tar",
        ],
    );
    eprintln!("verify: peak RSS {} MiB", peak / 1024);
    let report = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
    assert_eq!(code, 0, "{report}{stderr}");
    assert!(report.contains("\nVERIFIED"), "{report}");
    assert!(
        peak <= PEAK_RSS_LIMIT_KIB,
        "verify: peak RSS {} MiB is over 256 MiB",
        peak / 1024
    );
}

#[test]
fn two_hundred_thousand_dpkg_packages_in_every_format() {
    // Each package depends on the next and on libc6 (through a Provides of package 0); 60 MB of
    // status, as dpkg writes it.
    const COUNT: usize = 200_000;
    let dir = dpkg_image(COUNT);
    let stdout =
        || std::io::BufReader::new(std::fs::File::open(dir.path().join("stdout")).unwrap());
    let library_names = |names: Vec<Named>| -> usize {
        let (mut count, mut bash) = (0, false);
        for n in &names {
            count += usize::from(n.name.starts_with("pkg"));
            bash |= n.name == "bash";
        }
        assert!(bash, "bash is reported");
        count
    };
    for format in ["cyclonedx-json", "cyclonedx-xml", "spdx-json", "table"] {
        let (code, stderr, peak) = run_with_peak_rss(
            dir.path(),
            &["sbom", "--format", format, "docker-archive:img.tar"],
        );
        assert_eq!(code, 0, "{format}: {stderr}");
        eprintln!("{format}: peak RSS {} MiB", peak / 1024);
        assert!(
            peak <= PEAK_RSS_LIMIT_KIB,
            "{format}: peak RSS {} MiB is over 256 MiB; stderr: {stderr}",
            peak / 1024
        );
        match format {
            "cyclonedx-json" => {
                let sbom: CycloneDx = serde_json::from_reader(stdout()).expect("CycloneDX JSON");
                assert_eq!(library_names(sbom.components), COUNT);
                let edges: usize = sbom.dependencies.iter().map(|d| d.depends_on.len()).sum();
                // pkgN -> pkgN+1 for all, and -> pkg0 (libc6) for all but pkg0 and pkg199999,
                // whose next package is pkg0 itself.
                assert_eq!(edges, 2 * COUNT - 2);
            }
            "spdx-json" => {
                let sbom: Spdx = serde_json::from_reader(stdout()).expect("SPDX JSON");
                assert_eq!(library_names(sbom.packages), COUNT);
                // DESCRIBES, CONTAINS for each package and bash, and the dependency edges.
                assert_eq!(sbom.relationships.len(), 1 + COUNT + 1 + 2 * COUNT - 2);
            }
            "cyclonedx-xml" => {
                let mut count = 0;
                for line in std::io::BufRead::lines(stdout()) {
                    count += usize::from(line.unwrap().trim_start().starts_with("<name>pkg"));
                }
                assert_eq!(count, COUNT);
            }
            _ => {
                let rows = std::io::BufRead::lines(stdout())
                    .filter(|l| l.as_ref().unwrap().starts_with("pkg"))
                    .count();
                assert_eq!(rows, COUNT);
            }
        }
    }

    // `check` holds the inventory and the rules' view of it at once (it took 2 GiB when it made
    // the SBOM a JSON value): 251 MiB in this build, bounded here a little above until the
    // components share their strings (issue 15's target is 256 MiB).
    let (code, stderr, peak) = run_with_peak_rss(
        dir.path(),
        &["check", "--format", "json", "docker-archive:img.tar"],
    );
    eprintln!("check: peak RSS {} MiB", peak / 1024);
    assert!(
        peak <= CHECK_PEAK_RSS_LIMIT_KIB,
        "check: peak RSS {} MiB; {stderr}",
        peak / 1024
    );
    let verdict: serde_json::Value = serde_json::from_reader(stdout()).expect("a JSON verdict");
    let expected = match code {
        0 => "PASSED",
        1 => "FAILED",
        other => panic!("check exited {other}: {stderr}"),
    };
    assert_eq!(verdict["verificationResult"], expected, "{stderr}");

    // `attest` refuses before it signs: the envelope would be over what verification reads (it
    // took 3.8 GB and wrote 656 MB that no verifier accepted).
    let (code, stderr, peak) = attest_with_peak_rss(dir.path());
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("over the 64 MiB that verification reads"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing is written");
    assert!(
        peak <= CHECK_PEAK_RSS_LIMIT_KIB,
        "attest: peak RSS {} MiB",
        peak / 1024
    );
}

/// `check`'s bound on the 200,000-package image (see the test).
const CHECK_PEAK_RSS_LIMIT_KIB: i64 = 288 * 1024;
