//! The Linux kernel of Debian's cloud kernel package, unpacked without dpkg into an image imported
//! into the engine: its release and build as `file` (libmagic) reads them from the same bzImage; and
//! its modules as modinfo (kmod) and Syft read them; and the same kernel and modules where dpkg owns
//! them are the package's, not reported again.

mod support;

use std::process::Command;
use support::*;

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The versioned kernel package the `linux-image-cloud-amd64` metapackage depends on.
fn kernel_package() -> String {
    let out = Command::new("apt-cache")
        .args(["depends", "linux-image-cloud-amd64"])
        .output()
        .expect("apt-cache runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-"))
        .unwrap_or_else(|| panic!("a kernel package: {}", String::from_utf8_lossy(&out.stdout)))
        .to_string()
}

#[test]
fn a_kernel_image_is_read_as_file_reads_it() {
    require_engine();
    let package = kernel_package();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    unpack_debs(&[&package], &root);
    let vmlinuz = std::fs::read_dir(root.join("boot"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vmlinuz-")
        })
        .expect("the package's vmlinuz");
    let described = Command::new("file")
        .arg("-b")
        .arg(&vmlinuz)
        .output()
        .expect("file runs");
    let described = String::from_utf8_lossy(&described.stdout).to_string();
    // "Linux kernel x86 boot executable bzImage, version RELEASE (BUILD ...), RO-rootFS, ..."
    let version = described
        .split_once(", version ")
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("file says: {described}"));
    let (release, _) = version.split_once(' ').unwrap();
    let tag = import_dir(&root, &format!("vouch-test/kernel:{}", std::process::id()));
    let (sbom, _) = sbom_of_image(&tag);
    let kernels: Vec<_> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:generic/linux-kernel@"))
        .collect();
    assert_eq!(kernels.len(), 1, "{kernels:?}");
    assert_eq!(kernels[0].1, release);
    assert_eq!(
        kernels[0].4,
        format!("/boot/{}", vmlinuz.file_name().unwrap().to_string_lossy())
    );
    let kernel = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "linux-kernel")
        .unwrap();
    let build = component_property(kernel, "vouch:kernel:build").unwrap();
    assert!(
        version.starts_with(&format!("{release} {build}")),
        "{version} / {build}"
    );

    // Its modules, as modinfo reads them: each named by `name`, at its `version` or (in-tree ones
    // have none) at the kernel's release.
    let modules: Vec<std::path::PathBuf> = walk(&root.join("lib/modules"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ko"))
        .collect();
    assert!(modules.len() > 100, "{}", modules.len());
    let read = Command::new("modinfo")
        .args(&modules)
        .output()
        .expect("modinfo (make deps installs kmod)");
    assert!(read.status.success(), "modinfo: {}", stderr(&read));
    let mut expected = std::collections::BTreeSet::new();
    for block in String::from_utf8_lossy(&read.stdout)
        .split("filename:")
        .skip(1)
    {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}:")))
                .map(|v| v.trim().to_string())
        };
        let path = block
            .lines()
            .next()
            .unwrap()
            .trim()
            .trim_start_matches(root.to_str().unwrap())
            .to_string();
        let release = field("vermagic")
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        expected.insert((
            path,
            field("name").unwrap(),
            field("version").unwrap_or(release),
        ));
    }
    assert_eq!(expected.len(), modules.len());
    let found: std::collections::BTreeSet<(String, String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:generic/linux-kernel-module/"))
        .map(|p| (p.4, p.0, p.1))
        .collect();
    assert_eq!(found, expected, "as modinfo reads them");
    // Syft's linux-kernel cataloger reads the same names, and the same versions where modinfo has
    // one.
    let syft = syft_json(dir.path(), &tag);
    let syft_modules: std::collections::BTreeSet<(String, String)> = syft["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "linux-kernel-module")
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                // Syft writes UNKNOWN where modinfo has no version.
                a["version"]
                    .as_str()
                    .filter(|v| *v != "UNKNOWN")
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let release = kernels[0].1.clone();
    let ours: std::collections::BTreeSet<(String, String)> = expected
        .iter()
        .map(|(_, name, version)| {
            (
                name.clone(),
                if *version == release {
                    String::new()
                } else {
                    version.clone()
                },
            )
        })
        .collect();
    assert_eq!(syft_modules, ours, "as Syft");
    docker(&["rmi", "-f", &tag]);

    // Where dpkg owns the file, the kernel is the package's.
    let info = root.join("var/lib/dpkg/info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        format!(
            "Package: {package}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n"
        ),
    )
    .unwrap();
    std::fs::write(
        info.join(format!("{package}.list")),
        format!(
            "/boot\n/boot/{}\n{}\n",
            vmlinuz.file_name().unwrap().to_string_lossy(),
            modules
                .iter()
                .map(|m| format!("/{}", m.strip_prefix(&root).unwrap().display()))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .unwrap();
    let tag = import_dir(
        &root,
        &format!("vouch-test/kernel-owned:{}", std::process::id()),
    );
    let (sbom, _) = sbom_of_image(&tag);
    assert!(!packages(&sbom)
        .iter()
        .any(|p| p.2.starts_with("pkg:generic/linux-kernel")));
    docker(&["rmi", "-f", &tag]);
}
