//! OpenWrt's package database as opkg lays it out (`/usr/lib/opkg/status`, deb822 paragraphs with
//! opkg's `Status: install user installed` and `Installed-Time`, `info/NAME.list` per package), in
//! an image with OpenWrt's os-release and a real busybox binary (Debian's, standing in for the one
//! OpenWrt builds) that opkg's list says busybox installed. Debian ships no opkg, and Syft and Trivy
//! read no opkg database, so the database is written in opkg's exact shape here.

mod support;

use support::*;

const OS_RELEASE: &str =
    "NAME=\"OpenWrt\"\nVERSION=\"23.05.3\"\nID=\"openwrt\"\nID_LIKE=\"lede openwrt\"\n\
PRETTY_NAME=\"OpenWrt 23.05.3\"\nVERSION_ID=\"23.05.3\"\nOPENWRT_ARCH=\"x86_64\"\n";

const STATUS: &str = "Package: libc\nVersion: 1.2.4-4\nDepends: libgcc\nStatus: install hold installed\n\
Architecture: x86_64\nInstalled-Time: 1710000000\n\n\
Package: libgcc\nVersion: 12.3.0-4\nStatus: install hold installed\nArchitecture: x86_64\nInstalled-Time: 1710000000\n\n\
Package: busybox\nVersion: 1.36.1-1\nDepends: libc\nStatus: install user installed\nArchitecture: x86_64\n\
Conffiles:\n /etc/syslog.conf 2df5d3fb4e02e8c4bd2c8ed1e4e0b1a95d4a1a8a\nInstalled-Time: 1710000001\n\n\
Package: libustream-mbedtls\nVersion: 2023.02.28~498f6e26-1\nDepends: libc, libmbedtls12\nProvides: libustream-ssl\n\
Status: install user installed\nArchitecture: x86_64\nInstalled-Time: 1710000002\nAuto-Installed: yes\n\n\
Package: uclient-fetch\nVersion: 2023.04.24~007d9454-1\nDepends: libc, libustream-ssl\nStatus: install user installed\n\
Architecture: x86_64\nInstalled-Time: 1710000003\n\n\
Package: luci-app-removed\nVersion: 1.0-1\nStatus: deinstall user not-installed\nArchitecture: all\n\n";

#[test]
fn opkg_status_lists_installed_packages() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let db = root.join("usr/lib/opkg");
    std::fs::create_dir_all(db.join("info")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::write(root.join("etc/os-release"), OS_RELEASE).unwrap();
    std::fs::write(db.join("status"), STATUS).unwrap();
    std::fs::write(
        db.join("info/busybox.list"),
        "/bin/busybox\n/etc/syslog.conf\n",
    )
    .unwrap();
    unpack_debs(&["busybox"], &dir.path().join("deb"));
    std::fs::copy(dir.path().join("deb/bin/busybox"), root.join("bin/busybox")).unwrap();
    // The same binary outside the package: found by its bytes, so the check below is not empty.
    std::fs::create_dir_all(root.join("opt/copy")).unwrap();
    std::fs::copy(
        dir.path().join("deb/bin/busybox"),
        root.join("opt/copy/busybox"),
    )
    .unwrap();

    let tag = format!("vouch-test/opkg:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    let all = packages(&sbom);
    let opkg: Vec<(String, String)> = all
        .iter()
        .filter(|p| p.2.starts_with("pkg:opkg/"))
        .map(|p| (p.0.clone(), p.1.clone()))
        .collect();
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        opkg,
        [
            s("busybox", "1.36.1-1"),
            s("libc", "1.2.4-4"),
            s("libgcc", "12.3.0-4"),
            s("libustream-mbedtls", "2023.02.28~498f6e26-1"),
            s("uclient-fetch", "2023.04.24~007d9454-1"),
        ],
        "installed ones only"
    );
    assert!(
        all.iter()
            .any(|p| p.2 == "pkg:opkg/openwrt/busybox@1.36.1-1?arch=x86_64&distro=openwrt-23.05.3"),
        "{all:?}"
    );
    assert_eq!(
        depends_on(&sbom, "pkg:opkg/openwrt/uclient-fetch@"),
        ["libc", "libustream-mbedtls"]
    );
    assert_eq!(depends_on(&sbom, "pkg:opkg/openwrt/libc@"), ["libgcc"]);
    // Binaries are application components.
    let classified: Vec<String> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["name"] == "busybox" && c["purl"].as_str().unwrap().starts_with("pkg:generic/")
        })
        .filter_map(|c| component_property(c, "vouch:path"))
        .collect();
    assert_eq!(
        classified,
        ["/opt/copy/busybox"],
        "the listed binary is the package's"
    );
    docker(&["rmi", "-f", &tag]);
}
