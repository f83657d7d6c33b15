//! Every fuzz target (`fuzz/targets.rs`) run briefly in CI, so the targets keep building and the
//! parsers meet mutated input on every run: each target's seeds (real files of this machine, see
//! `targets::seeds`), then a seeded mutation loop (bit flips, byte changes, insertions, deletions,
//! duplicated and spliced chunks, boundary numbers) for `VOUCH_FUZZ_SECONDS` (default 2) per
//! target. A panic fails the test with the input saved under `target/fuzz-smoke/`; an input taking
//! over 5 s is a hang and fails it too. Coverage-guided runs are `make fuzz` (`cargo fuzz`).
//! `VOUCH_FUZZ_CORPUS=DIR` writes the seeds as corpus directories for `make fuzz`;
//! `VOUCH_FUZZ_REPLAY=TARGET:FILE` runs one saved input with its panic shown. Inputs that once
//! crashed are kept in `fuzz/regressions/TARGET/` and replayed on every run.

#[path = "../fuzz/targets.rs"]
mod targets;

mod support;

use std::time::{Duration, Instant};

/// A small, seeded generator (xorshift64*): the same seed gives the same inputs, so a failure can
/// be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[&[u8]] = &[
    &[0],
    &[0xff],
    &[0x7f],
    &[0x80],
    &[0xff, 0xff, 0xff, 0xff],
    &[0x7f, 0xff, 0xff, 0xff],
    b"0",
    b"-1",
    b"99999999999",
    b"\"",
    b"{",
    b"[",
    b"\n\n",
    b"../",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                let bytes: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
                input.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let end = (i + 1 + rng.below(64)).min(len);
                input.drain(i..end);
            }
            4 if len > 0 && len < 1 << 20 => {
                let i = rng.below(len);
                let end = (i + 1 + rng.below(256)).min(len);
                let chunk = input[i..end].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, chunk);
            }
            5 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let end = (i + 1 + rng.below(512)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[i..end].iter().copied());
                }
            }
            _ => {
                let value = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(len + 1);
                let end = (at + value.len()).min(len);
                input.splice(at..end, value.iter().copied());
            }
        }
    }
}

fn save(target: &str, input: &[u8]) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-smoke");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-crash"));
    std::fs::write(&path, input).unwrap();
    path
}

/// Real rpm databases (sqlite as rpm wrote it; the same headers as Berkeley DB in both byte orders
/// and as NDB), at the paths the rpm cataloger reads them from.
fn rpm_databases() -> Vec<(&'static str, Vec<u8>)> {
    let (dir, headers) = support::rpmdb::installed_headers();
    let sqlite = std::fs::read(dir.path().join("sqlite/var/lib/rpm/rpmdb.sqlite"))
        .expect("rpm wrote an rpmdb.sqlite");
    let mut databases = vec![
        ("var/lib/rpm/rpmdb.sqlite", sqlite),
        (
            "usr/lib/sysimage/rpm/Packages.db",
            support::rpmdb::ndb_bytes(&headers),
        ),
    ];
    for big_endian in [false, true] {
        let file = dir.path().join(format!("Packages-{big_endian}"));
        support::rpmdb::write_bdb(&headers, 4096, big_endian, &file);
        databases.push(("var/lib/rpm/Packages", std::fs::read(file).unwrap()));
    }
    databases
}

/// Each layer seed also gzip- and zstd-compressed, as registries and `docker save` carry layers:
/// the decompressors meet mutated streams too.
fn compressed(layers: &[Vec<u8>]) -> Vec<Vec<u8>> {
    use std::io::Write;
    let mut out = Vec::new();
    for layer in layers {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(layer).unwrap();
        out.push(gzip.finish().unwrap());
        out.push(zstd::encode_all(layer.as_slice(), 3).unwrap());
    }
    out
}

/// all.zip files as osv.dev's exporter writes them, by Python's zipfile: deflated and stored
/// records, one with zip64 extra fields.
fn osv_zips() -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, zipfile
record = '{"id":"PYSEC-%d","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"p%d"}}]}'
for name, method, force in [("a", zipfile.ZIP_DEFLATED, False), ("b", zipfile.ZIP_STORED, False), ("c", zipfile.ZIP_DEFLATED, True)]:
    with zipfile.ZipFile(f"{sys.argv[1]}/{name}.zip", "w", method) as z:
        for i in range(3):
            with z.open(f"PYSEC-{i}.json", "w", force_zip64=force) as f:
                f.write((record % (i, i)).encode())
"#;
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(dir.path())
        .status()
        .expect("python3 runs (make test installs it)");
    assert!(status.success(), "python3's zipfile wrote no seed zips");
    ["a", "b", "c"]
        .iter()
        .map(|name| std::fs::read(dir.path().join(format!("{name}.zip"))).unwrap())
        .collect()
}

/// The rpm databases as seeds of the targets that read image files.
fn rpm_seeds(target: &str, databases: &[(&str, Vec<u8>)]) -> Vec<Vec<u8>> {
    databases
        .iter()
        .filter_map(|(path, bytes)| match target {
            "layer" => Some(targets::tar_of(&[(path, bytes)])),
            "catalog_file" => targets::catalog_file_input(path, bytes),
            _ => None,
        })
        .collect()
}

#[test]
fn every_fuzz_target_survives_its_seeds_and_their_mutations() {
    // `VOUCH_FUZZ_REPLAY=TARGET:FILE` runs one input, uncaught, to see its panic.
    if let Some(replay) = std::env::var_os("VOUCH_FUZZ_REPLAY") {
        let replay = replay.to_string_lossy().into_owned();
        let (name, file) = replay.split_once(':').expect("TARGET:FILE");
        let (_, target) = targets::TARGETS
            .iter()
            .find(|(n, _)| *n == name)
            .expect("a target name");
        target(&std::fs::read(file).unwrap());
        return;
    }
    let seconds: f64 = std::env::var("VOUCH_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let corpus = std::env::var_os("VOUCH_FUZZ_CORPUS").map(std::path::PathBuf::from);
    // Panics are caught and reported with their input, not printed once per mutation.
    std::panic::set_hook(Box::new(|_| {}));
    let mut report = Vec::new();
    let rpm_databases = rpm_databases();
    let keys = tempfile::tempdir().unwrap();
    let key_files: Vec<Vec<u8>> = support::keys::real_keys(keys.path())
        .iter()
        .map(|(name, _)| std::fs::read(keys.path().join(name)).unwrap())
        .collect();
    for (name, target) in targets::TARGETS {
        // Inputs that once crashed (fuzz/regressions/TARGET/) are replayed first, as seeds.
        let mut seeds = targets::seeds(name);
        seeds.extend(rpm_seeds(name, &rpm_databases));
        if *name == "layer" {
            seeds.extend(compressed(&seeds));
        }
        if *name == "private_key" {
            seeds.extend(key_files.iter().cloned());
        }
        if *name == "osv_zip" {
            seeds.extend(osv_zips());
        }
        let regressions = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions")
            .join(name);
        if let Ok(entries) = std::fs::read_dir(regressions) {
            for entry in entries.flatten() {
                seeds.push(std::fs::read(entry.path()).unwrap());
            }
        }
        assert!(!seeds.is_empty(), "{name}: no seed found on this machine");
        if let Some(corpus) = &corpus {
            let dir = corpus.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            for (i, seed) in seeds.iter().enumerate() {
                std::fs::write(dir.join(format!("seed-{i}")), seed).unwrap();
            }
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        let started = Instant::now();
        let mut runs = 0u64;
        let mut inputs = seeds.clone().into_iter();
        while started.elapsed().as_secs_f64() < seconds || inputs.len() > 0 {
            let input = inputs.next().unwrap_or_else(|| {
                let mut input = seeds[rng.below(seeds.len())].clone();
                mutate(&mut rng, &mut input, &seeds);
                input
            });
            let one = Instant::now();
            let outcome = std::panic::catch_unwind(|| target(&input));
            if outcome.is_err() {
                let _ = std::panic::take_hook();
                panic!(
                    "fuzz target {name} panicked on an input saved as {}",
                    save(name, &input).display()
                );
            }
            if one.elapsed() > Duration::from_secs(5) {
                let _ = std::panic::take_hook();
                panic!(
                    "fuzz target {name} took {:?} on an input saved as {}",
                    one.elapsed(),
                    save(name, &input).display()
                );
            }
            runs += 1;
        }
        report.push(format!("{name}: {runs} inputs ({} seeds)", seeds.len()));
    }
    let _ = std::panic::take_hook();
    eprintln!("{}", report.join("\n"));
}
