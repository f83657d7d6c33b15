//! ELF package notes as `ld --package-metadata` writes them (binutils 2.40, the linker Fedora and
//! Azure Linux build with): binaries built here with the notes a Fedora rpm, a Debian package and
//! a tarball build would carry, alone in an image. Read back by `readelf -n` (the reference reader)
//! and by Syft's elf-binary-package cataloger, and compared with vouch.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

/// Builds `source` into `out` with the package note `note` (none when empty).
fn build(dir: &Path, source: &str, out: &Path, note: &str) {
    let c = dir.join("main.c");
    std::fs::write(&c, source).unwrap();
    let mut gcc = Command::new("gcc");
    gcc.arg("-O0").arg("-o").arg(out).arg(&c);
    if !note.is_empty() {
        // `-Wl,` would split the JSON at its commas; -Xlinker passes it whole.
        gcc.arg("-Xlinker")
            .arg(format!("--package-metadata={note}"));
    }
    let built = gcc.output().expect("gcc runs (make deps installs gcc)");
    assert!(built.status.success(), "gcc: {}", stderr(&built));
}

/// The package metadata `readelf -n` prints for `file`.
fn readelf_note(file: &Path) -> Value {
    let out = Command::new("readelf")
        .arg("-n")
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Packaging Metadata: "))
        .unwrap_or_else(|| {
            panic!(
                "readelf shows no package note in {}:\n{text}",
                file.display()
            )
        });
    serde_json::from_str(json).unwrap()
}

#[test]
fn package_notes_name_the_package_a_binary_came_from() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("opt/tool")).unwrap();
    const HELLO: &str = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";
    // Carries BusyBox's version string, as the busybox classifier reads it.
    const BUSYBOX: &str =
        "#include <stdio.h>\nconst char *v = \"BusyBox v1.36.1 (2024-01-01) multi-call binary\";\nint main(void) { puts(v); return 0; }\n";
    let notes = [
        (
            "usr/bin/hello",
            HELLO,
            r#"{"type":"rpm","name":"hello","version":"2.12.1-4.fc40","architecture":"x86_64","osCpe":"cpe:/o:fedoraproject:fedora:40","license":"GPL-3.0-or-later"}"#,
        ),
        (
            "usr/bin/busybox",
            BUSYBOX,
            r#"{"type":"deb","name":"busybox","version":"1:1.36.1-9","architecture":"amd64","os":"debian","osVersion":"13"}"#,
        ),
        (
            "opt/tool/tool",
            HELLO,
            r#"{"type":"tarball","name":"tool","version":"0.9.0"}"#,
        ),
    ];
    let mut expected = BTreeSet::new();
    for (path, source, note) in notes {
        let file = root.join(path);
        build(dir.path(), source, &file, note);
        let read = readelf_note(&file);
        expected.insert((
            read["name"].as_str().unwrap().to_string(),
            read["version"].as_str().unwrap().to_string(),
        ));
    }
    // The same BusyBox source without a note: found by its bytes, so the test above is not empty.
    build(dir.path(), BUSYBOX, &root.join("opt/tool/busybox"), "");

    let tag = format!("vouch-test/elf-package:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    let all = packages(&sbom);
    let noted: BTreeSet<(String, String)> = all
        .iter()
        .filter(|p| p.4 != "/opt/tool/busybox")
        .map(|p| (p.0.clone(), p.1.clone()))
        .collect();
    assert_eq!(noted, expected, "as readelf, and nothing else: {all:?}");
    let purl = |path: &str| all.iter().find(|p| p.4 == path).unwrap().2.clone();
    assert_eq!(
        purl("/usr/bin/hello"),
        "pkg:rpm/fedora/hello@2.12.1-4.fc40?arch=x86_64&distro=fedora-40"
    );
    assert_eq!(
        purl("/usr/bin/busybox"),
        "pkg:deb/debian/busybox@1:1.36.1-9?arch=amd64&distro=debian-13"
    );
    assert_eq!(purl("/opt/tool/tool"), "pkg:generic/tool@0.9.0");
    assert_eq!(purl("/opt/tool/busybox"), "pkg:generic/busybox@1.36.1");

    // Syft's elf-binary-package cataloger reads the same notes.
    let found = syft_json(dir.path(), &tag);
    let syft_noted: BTreeSet<(String, String)> = found["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["foundBy"] == "elf-binary-package-cataloger")
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(syft_noted, expected, "as Syft");
    docker(&["rmi", "-f", &tag]);
}
