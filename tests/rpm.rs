//! The rpm cataloger on a real image: packages built by `rpmbuild` and installed into an rpm 4.18
//! sqlite database by `rpm` itself, read through the Docker engine and compared with `rpm -qa`.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

const SPECS: &[(&str, &str)] = &[
    (
        "tiny-shell",
        "Name: tiny-shell\nVersion: 5.1.8\nRelease: 6.el9\nSummary: t\nLicense: GPLv3+\nBuildArch: noarch\n\
         %description\nt\n%install\nmkdir -p %{buildroot}/bin && echo x > %{buildroot}/bin/sh\n%files\n/bin/sh\n",
    ),
    (
        "libbase",
        "Name: libbase\nEpoch: 2\nVersion: 1.2\nRelease: 3.el9\nSummary: t\nLicense: MIT and BSD-3-Clause\nBuildArch: noarch\n\
         Provides: libbase.so.1()(64bit)\n%description\nt\n%install\nmkdir -p %{buildroot}/usr/lib64 && echo x > %{buildroot}/usr/lib64/libbase.so.1\n\
         %files\n/usr/lib64/libbase.so.1\n",
    ),
    (
        "tiny-app",
        "Name: tiny-app\nVersion: 0.9\nRelease: 1.el9\nSummary: t\nLicense: ASL 2.0\nBuildArch: noarch\n\
         Requires: libbase.so.1()(64bit)\nRequires: /bin/sh\nRequires: not-installed-anywhere\n\
         %description\nt\n%install\nmkdir -p %{buildroot}/usr/bin && echo x > %{buildroot}/usr/bin/tiny-app\n%files\n/usr/bin/tiny-app\n",
    ),
];

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .expect("the command runs (make deps installs rpm)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds the packages and installs them (database only) into `root/var/lib/rpm`.
fn install_rpms(work: &Path, root: &Path) {
    let top = work.join("rpmbuild");
    for (name, spec) in SPECS {
        let spec_path = work.join(format!("{name}.spec"));
        std::fs::write(&spec_path, spec).unwrap();
        run(Command::new("rpmbuild")
            .args(["-bb", "--define"])
            .arg(format!("_topdir {}", top.display()))
            .args(["--define", "_build_id_links none"])
            .arg(&spec_path));
    }
    let db = root.join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    let rpms: Vec<_> = std::fs::read_dir(top.join("RPMS/noarch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    run(Command::new("rpm")
        .args([
            "-i",
            "--justdb",
            "--nodeps",
            "--noscripts",
            "--ignorearch",
            "--ignoreos",
            "--dbpath",
        ])
        .arg(&db)
        .args(&rpms));
}

#[test]
fn rpm_sqlite_database_matches_rpm_qa() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    install_rpms(dir.path(), &root);
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 9.3 (Plow)\"\n",
    )
    .unwrap();
    let listed = run(Command::new("rpm")
        .args(["-qa", "--dbpath"])
        .arg(root.join("var/lib/rpm"))
        .args(["--qf", "%{NAME}\t%{EPOCH}\t%{VERSION}-%{RELEASE}\n"]));
    let expected: BTreeSet<(String, String)> = listed
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let version = if f[1] == "(none)" {
                f[2].to_string()
            } else {
                format!("{}:{}", f[1], f[2])
            };
            (f[0].to_string(), version)
        })
        .collect();
    assert_eq!(expected.len(), 3);

    let tag = format!("vouch-test/rpm:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _warnings) = sbom_of_image(&tag);
    let found: BTreeSet<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:rpm/"))
        .map(|(name, version, _, _, _)| (name, version))
        .collect();
    assert_eq!(found, expected, "the same packages as rpm -qa");

    let purls: BTreeSet<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    assert!(
        purls.contains("pkg:rpm/redhat/libbase@1.2-3.el9?arch=noarch&distro=rhel-9.3&epoch=2"),
        "{purls:?}"
    );
    assert_eq!(
        depends_on(&sbom, "pkg:rpm/redhat/tiny-app@"),
        ["libbase", "tiny-shell"],
        "through Provides and a file"
    );
    let license = |name: &str| {
        sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["licenses"]
            .clone()
    };
    assert_eq!(
        license("tiny-app"),
        serde_json::json!([{"license": {"id": "Apache-2.0"}}])
    );
    assert_eq!(
        license("tiny-shell"),
        serde_json::json!([{"license": {"id": "GPL-3.0-or-later"}}])
    );
    Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
}

#[test]
fn corrupt_rpm_database_is_a_warning() {
    let layer = Layer::new()
        .file("var/lib/rpm/rpmdb.sqlite", "SQLite format 3\0 but then garbage, not a database at all, padded out........................................................")
        .file("var/lib/dpkg/status", &dpkg_paragraph("still-found", "1.0"));
    let dir = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("corrupt:1"));
    let out = run_vouch(dir.path(), &["sbom", "docker-archive:img.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/var/lib/rpm/rpmdb.sqlite: cannot read the rpm database"),
        "{}",
        stderr(&out)
    );
    let sbom = valid_cyclonedx(&out.stdout);
    assert_eq!(
        packages(&sbom).len(),
        1,
        "the rest of the image is still cataloged"
    );
}
