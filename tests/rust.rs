//! The Rust cataloger on a real binary: a program built here with `cargo auditable` (crates from
//! crates.io), read through the Docker engine and compared with the project's own reader,
//! `rust-audit-info`; and the same binary cut off inside its audit data, which gives a warning.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;
use support::*;

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (make deps installs cargo-auditable)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn cargo_auditable_binary_matches_rust_audit_info() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("krate");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"audited-app\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"=1.0.11\"\nryu = \"=1.0.18\"\n\n[build-dependencies]\nautocfg = \"=1.1.0\"\n",
    )
    .unwrap();
    // A build script and its crate: recorded by cargo-auditable with `kind: build`.
    std::fs::write(
        krate.join("build.rs"),
        "fn main() { autocfg::new().emit_has_type(\"i128\"); }\n",
    )
    .unwrap();
    std::fs::write(
        krate.join("src/main.rs"),
        "fn main() { let mut b = itoa::Buffer::new(); let mut r = ryu::Buffer::new(); println!(\"{} {}\", b.format(42), r.format(1.5)); }\n",
    )
    .unwrap();
    run(Command::new("cargo")
        .args(["auditable", "build", "--release", "-q"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", dir.path().join("target")));
    let binary = dir.path().join("target/release/audited-app");
    let reference: Value =
        serde_json::from_slice(&run(Command::new("rust-audit-info").arg(&binary))).unwrap();
    let expected: BTreeSet<(String, String)> = reference["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 4);
    let build_only: BTreeSet<String> = reference["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "build")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(build_only, BTreeSet::from(["autocfg".to_string()]));

    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("usr/local/bin")).unwrap();
    let bytes = std::fs::read(&binary).unwrap();
    std::fs::write(root.join("usr/local/bin/audited-app"), &bytes).unwrap();
    // The same binary cut off 8 bytes before the end of its audit data (recognisable, incomplete): the
    // compressed section, dumped by objcopy, tells where that is.
    let section = dir.path().join("dep-v0");
    run(Command::new("objcopy")
        .arg(format!("--dump-section=.dep-v0={}", section.display()))
        .arg(&binary)
        .arg(dir.path().join("scratch")));
    let compressed = std::fs::read(&section).unwrap();
    let at = bytes
        .windows(compressed.len())
        .position(|w| w == compressed)
        .expect("the section's bytes");
    std::fs::write(
        root.join("usr/local/bin/cut-app"),
        &bytes[..at + compressed.len() - 8],
    )
    .unwrap();

    let tag = format!("vouch-test/rust:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    assert!(
        warnings.contains("/usr/local/bin/cut-app: cargo-auditable data does not inflate"),
        "{}",
        warnings
    );
    let found: BTreeSet<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:cargo/") && p.4 == "/usr/local/bin/audited-app")
        .map(|(name, version, _, _, _)| (name, version))
        .collect();
    assert_eq!(found, expected, "the same crates rust-audit-info reads");
    // What only built the program is not in it: CycloneDX's `scope: excluded`.
    let excluded: BTreeSet<String> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["scope"] == "excluded")
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(excluded, build_only);
    assert_eq!(
        depends_on(&sbom, "pkg:cargo/audited-app@"),
        ["autocfg", "itoa", "ryu"],
        "the build dependency too, as the audit data records it"
    );
    Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
}
