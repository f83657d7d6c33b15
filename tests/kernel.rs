//! The Linux kernel of Debian's cloud kernel package, unpacked without dpkg into an image imported
//! into the engine: its release and build as `file` (libmagic) reads them from the same bzImage; and
//! the same kernel where dpkg owns it is the package's, not reported again.

mod support;

use std::process::Command;
use support::*;

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
            "/boot\n/boot/{}\n",
            vmlinuz.file_name().unwrap().to_string_lossy()
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
        .any(|p| p.2.starts_with("pkg:generic/linux-kernel@")));
    docker(&["rmi", "-f", &tag]);
}
