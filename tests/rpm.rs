//! The rpm cataloger on real images: packages built by `rpmbuild` and installed into an rpm 4.18
//! sqlite database by `rpm` itself, read through the Docker engine and compared with `rpm -qa`.
//! The same header blobs are also stored as a Berkeley DB `Packages` by libdb's own `db5.3_load`
//! (both byte orders, inline and overflow values), which rpm's `bdb_ro` backend reads as the
//! reference, and as an NDB `Packages.db` laid out as rpm's `lib/backend/ndb/rpmpkg.c` writes it
//! (Debian's rpm is built without NDB, so there the sqlite database's `rpm -qa` is the reference).

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::rpmdb::*;
use support::*;

/// `rpm -qa` on a database directory with the given backend, as (name, [epoch:]version-release).
fn rpm_qa(db: &Path, backend: &str) -> BTreeSet<(String, String)> {
    let listed = run(Command::new("rpm")
        .args(["-qa", "--define"])
        .arg(format!("_db_backend {backend}"))
        .arg("--dbpath")
        .arg(db)
        .args(["--qf", "%{NAME}\t%{EPOCH}\t%{VERSION}-%{RELEASE}\n"]));
    listed
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
        .collect()
}

/// The rpm components of an SBOM, as (name, version).
fn rpm_packages(sbom: &serde_json::Value) -> BTreeSet<(String, String)> {
    packages(sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:rpm/"))
        .map(|(name, version, _, _, _)| (name, version))
        .collect()
}

/// A root holding only an os-release and the given database file.
fn root_with_db(
    parent: &Path,
    os_release: &str,
    db_path: &str,
    bytes: &[u8],
) -> std::path::PathBuf {
    let root = parent.join(db_path.replace('/', "_"));
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/os-release"), os_release).unwrap();
    let file = root.join(db_path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, bytes).unwrap();
    root
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
    let expected = rpm_qa(&root.join("var/lib/rpm"), "sqlite");
    assert_eq!(expected.len(), SPECS.len());

    let tag = format!("vouch-test/rpm:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _warnings) = sbom_of_image(&tag);
    assert_eq!(
        rpm_packages(&sbom),
        expected,
        "the same packages as rpm -qa"
    );

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

#[test]
fn rpm_berkeley_db_matches_rpm_qa() {
    require_engine();
    let (dir, headers) = installed_headers();
    assert_eq!(headers.len(), SPECS.len());
    // 4 KB pages put every header on overflow pages (several for many-files); 64 KB pages keep the
    // small ones inline on the hash page. Big-endian is what s390x and ppc64 images carry.
    for (page_size, big_endian) in [(4096, false), (65536, false), (4096, true)] {
        let case = format!("bdb-{page_size}-{big_endian}");
        let db_dir = dir.path().join(&case);
        std::fs::create_dir_all(&db_dir).unwrap();
        write_bdb(&headers, page_size, big_endian, &db_dir.join("Packages"));
        let expected = rpm_qa(&db_dir, "bdb_ro");
        assert_eq!(
            expected.len(),
            SPECS.len(),
            "{case}: rpm reads the database"
        );

        let bytes = std::fs::read(db_dir.join("Packages")).unwrap();
        let root = root_with_db(
            &db_dir,
            "ID=\"centos\"\nVERSION_ID=\"7\"\n",
            "var/lib/rpm/Packages",
            &bytes,
        );
        let tag = format!("vouch-test/rpm-{case}:{}", std::process::id());
        import_dir(&root, &tag);
        let (sbom, warnings) = sbom_of_image(&tag);
        docker(&["rmi", "-f", &tag]);
        assert_eq!(rpm_packages(&sbom), expected, "{case}: {warnings}");
        assert!(!warnings.contains("rpm"), "{case}: {warnings}");
        assert_eq!(
            depends_on(&sbom, "pkg:rpm/centos/tiny-app@"),
            ["libbase", "tiny-shell"],
            "{case}"
        );
    }
}

#[test]
fn rpm_ndb_database_matches_rpm_qa() {
    require_engine();
    let (dir, headers) = installed_headers();
    let expected = rpm_qa(&dir.path().join("sqlite/var/lib/rpm"), "sqlite");
    let root = root_with_db(
        dir.path(),
        "ID=\"sles\"\nVERSION_ID=\"15.5\"\n",
        "usr/lib/sysimage/rpm/Packages.db",
        &ndb_bytes(&headers),
    );
    let tag = format!("vouch-test/rpm-ndb:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    assert_eq!(rpm_packages(&sbom), expected, "{warnings}");
    let purls: BTreeSet<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    assert!(
        purls.contains("pkg:rpm/sles/libbase@1.2-3.el9?arch=noarch&distro=sles-15.5&epoch=2"),
        "{purls:?}"
    );
}

/// Damaged Berkeley DB and NDB databases: the damaged part is a warning naming the file, the rest of
/// the database and of the image is still cataloged.
#[test]
fn damaged_bdb_and_ndb_databases_are_warnings() {
    let (dir, headers) = installed_headers();

    // NDB: one byte of the second blob flipped; its checksum no longer matches.
    let mut ndb = ndb_bytes(&headers);
    let second_blob = 4096 + (16 + headers[0].1.len() + 12).div_ceil(16) * 16;
    ndb[second_blob + 40] ^= 0xff;
    // Berkeley DB: cut after its first pages.
    write_bdb(&headers, 4096, false, &dir.path().join("Packages"));
    let bdb = std::fs::read(dir.path().join("Packages")).unwrap();
    let cases: [(&str, Vec<u8>, &str, usize); 3] = [
        (
            "usr/lib/sysimage/rpm/Packages.db",
            ndb,
            "package 2: its blob checksum does not match; it is missing",
            SPECS.len() - 1,
        ),
        (
            "var/lib/rpm/Packages",
            bdb[..3 * 4096].to_vec(),
            "but the file holds 3; its packages are missing",
            0,
        ),
        (
            "var/lib/rpm/Packages",
            b"neither SQLite nor Berkeley DB nor NDB, just text".to_vec(),
            "not an rpm database in any format rpm writes",
            0,
        ),
    ];
    for (path, bytes, message, rpm_count) in cases {
        let layer = Layer::new()
            .file_bytes(path, &bytes)
            .file("var/lib/dpkg/status", &dpkg_paragraph("still-found", "1.0"));
        let work = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("bad:1"));
        let out = run_vouch(work.path(), &["sbom", "docker-archive:img.tar"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("/{path}: ")) && stderr(&out).contains(message),
            "{path}: {}",
            stderr(&out)
        );
        let sbom = valid_cyclonedx(&out.stdout);
        assert_eq!(rpm_packages(&sbom).len(), rpm_count, "{}", stderr(&out));
        assert!(packages(&sbom).iter().any(|p| p.0 == "still-found"));
    }
}

/// rpm packages are matched against the advisories of their distribution, in each publisher's
/// OSV shape: Red Hat's streams (`Red Hat:enterprise_linux:9::baseos`, `::appstream`; epoch 0
/// written out), Rocky Linux's and AlmaLinux's releases (binary or source package names). The rpm
/// database is rpm's own (`install_rpms`), read from docker archives with three os-release files.
#[test]
fn rpm_packages_match_their_distributions_advisories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    install_rpms(dir.path(), &root);
    let database = std::fs::read(root.join("var/lib/rpm/rpmdb.sqlite")).unwrap();
    let record = |id: &str, ecosystem: &str, package: &str, fixed: &str| {
        serde_json::json!({
            "id": id, "modified": "2026-11-01T00:00:00Z", "published": "2026-10-30T00:00:00Z",
            "summary": format!("{package}: a flaw"),
            "affected": [{"package": {"ecosystem": ecosystem, "name": package},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
            "schema_version": "1.6.0"
        })
    };
    let db = dir.path().join("osv");
    std::fs::create_dir_all(&db).unwrap();
    let mut two_streams = record(
        "RHSA-2099:0001",
        "Red Hat:enterprise_linux:9::baseos",
        "libbase",
        "2:1.2-4.el9",
    );
    two_streams["affected"].as_array_mut().unwrap().push(
        record(
            "x",
            "Red Hat:enterprise_linux:9::appstream",
            "libbase",
            "2:1.2-4.el9",
        )["affected"][0]
            .clone(),
    );
    for (id, doc) in [
        ("RHSA-2099:0001", two_streams),
        // Fixed before the installed release (epoch 0 written out): not affected.
        (
            "RHSA-2099:0002",
            record(
                "RHSA-2099:0002",
                "Red Hat:enterprise_linux:9::baseos",
                "tiny-shell",
                "0:5.1.8-5.el9",
            ),
        ),
        // Another stream (EUS) and another release: not the image's.
        (
            "RHSA-2099:0003",
            record(
                "RHSA-2099:0003",
                "Red Hat:rhel_eus:9.2::baseos",
                "tiny-app",
                "0.9-2.el9",
            ),
        ),
        (
            "RHSA-2099:0004",
            record(
                "RHSA-2099:0004",
                "Red Hat:enterprise_linux:8::baseos",
                "tiny-app",
                "0.9-2.el8",
            ),
        ),
        (
            "RLSA-2099:0005",
            record(
                "RLSA-2099:0005",
                "Rocky Linux:9",
                "tiny-shell",
                "5.1.8-7.el9",
            ),
        ),
        (
            "ALSA-2099:0006",
            record("ALSA-2099:0006", "AlmaLinux:9", "tiny-app", "0.9-2.el9"),
        ),
    ] {
        std::fs::write(db.join(format!("{id}.json")), doc.to_string()).unwrap();
    }
    for (id, version, expected) in [
        (
            "rhel",
            "9.3",
            ("RHSA-2099:0001", "libbase", "2:1.2-3.el9", "2:1.2-4.el9"),
        ),
        (
            "rocky",
            "9.3",
            ("RLSA-2099:0005", "tiny-shell", "5.1.8-6.el9", "5.1.8-7.el9"),
        ),
        (
            "almalinux",
            "9.4",
            ("ALSA-2099:0006", "tiny-app", "0.9-1.el9", "0.9-2.el9"),
        ),
        // No OSV ecosystem vouch matches: no finding, and a warning that says so.
        ("sles", "15.5", ("", "", "", "")),
    ] {
        let layer = Layer::new()
            .file(
                "etc/os-release",
                &format!("ID=\"{id}\"\nVERSION_ID=\"{version}\"\n"),
            )
            .file_bytes("var/lib/rpm/rpmdb.sqlite", &database)
            .bytes();
        let archive = dir.path().join(format!("{id}.tar"));
        std::fs::write(
            &archive,
            TestImage::new(vec![layer]).docker_archive(&format!("{id}:1")),
        )
        .unwrap();
        let out = run_vouch(
            dir.path(),
            &[
                "scan",
                &format!("docker-archive:{id}.tar"),
                "--vuln-db",
                "osv",
                "--format",
                "json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{id}: {}", stderr(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found: Vec<(&str, &str, &str, &str)> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap(),
                    f["package"].as_str().unwrap(),
                    f["version"].as_str().unwrap(),
                    f["fixed_version"].as_str().unwrap_or(""),
                )
            })
            .collect();
        if id == "sles" {
            assert!(found.is_empty(), "{found:?}");
            assert!(
                stderr(&out).contains(&format!(
                    "{} rpm package(s) (distro sles-15.5) not looked up",
                    SPECS.len()
                )),
                "{}",
                stderr(&out)
            );
            continue;
        }
        assert_eq!(found, [expected], "{id} {version}");
        assert!(!stderr(&out).contains("not looked up"), "{}", stderr(&out));
        assert!(
            !stderr(&out).contains("not matched"),
            "{id}: every record's ecosystem is matched: {}",
            stderr(&out)
        );
    }
}

/// An Azure Linux / CBL-Mariner os-release.
const MARINER: &str = "NAME=\"Common Base Linux Mariner\"\nVERSION=\"2.0.20241029\"\nID=mariner\nVERSION_ID=\"2.0\"\nPRETTY_NAME=\"CBL-Mariner/Linux\"\n";

/// The rpm packages Syft finds in an engine image, as (name, version-release): Syft writes no
/// epoch where vouch and rpm do.
fn syft_rpms(work: &Path, tag: &str) -> BTreeSet<(String, String)> {
    let found = syft_json(work, tag);
    found["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "rpm")
        .map(|a| {
            let version = a["version"].as_str().unwrap();
            let without_epoch = version.split_once(':').map_or(version, |(_, v)| v);
            (
                a["name"].as_str().unwrap().to_string(),
                without_epoch.to_string(),
            )
        })
        .collect()
}

/// Azure Linux / CBL-Mariner distroless images keep no rpm database, only the list their build
/// wrote of it with `rpm -qa --qf`: here the real rpm writes it from a real database, in the
/// toolkit's format (`%{EPOCH}` in the sixth column) and in the one that writes `(none)` there.
/// vouch lists what `rpm -qa` does, epochs included, with Mariner purls; Syft 1.18 finds the same
/// names and versions in the same image. An image that keeps its database is read from that alone;
/// `container-manifest-1` alone is a warning, not a silent miss.
#[test]
fn mariner_distroless_manifest_lists_what_rpm_qa_does() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let db_root = dir.path().join("db");
    install_rpms(dir.path(), &db_root);
    let db = db_root.join("var/lib/rpm");
    let expected = rpm_qa(&db, "sqlite");
    let without_epochs: BTreeSet<(String, String)> = expected
        .iter()
        .map(|(n, v)| {
            (
                n.clone(),
                v.split_once(':').map_or(v.as_str(), |(_, v)| v).to_string(),
            )
        })
        .collect();
    let manifest = |epoch_column: &str| {
        run(Command::new("rpm")
            .args(["-qa", "--dbpath"])
            .arg(&db)
            .arg("--qf")
            .arg(format!(
                "%{{NAME}}\\t%{{VERSION}}-%{{RELEASE}}\\t%{{INSTALLTIME}}\\t%{{BUILDTIME}}\\t%{{VENDOR}}\\t{epoch_column}\\t%{{SIZE}}\\t%{{ARCH}}\\t%{{EPOCHNUM}}\\t%{{SOURCERPM}}\\n"
            )))
    };
    const MANIFEST: &str = "var/lib/rpmmanifest/container-manifest-2";
    for (variant, epoch_column) in [("toolkit", "%{EPOCH}"), ("none", "(none)")] {
        let work = dir.path().join(variant);
        let text = manifest(epoch_column);
        assert_eq!(text.lines().count(), SPECS.len(), "{text}");
        let root = root_with_db(&work, MARINER, MANIFEST, text.as_bytes());
        let tag = format!("vouch-test/rpm-manifest-{variant}:{}", std::process::id());
        import_dir(&root, &tag);
        let (sbom, _) = sbom_of_image(&tag);
        assert_eq!(rpm_packages(&sbom), expected, "{variant}: as rpm -qa");
        let purls: BTreeSet<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
        assert!(
            purls.contains(
                "pkg:rpm/mariner/libbase@1.2-3.el9?arch=noarch&distro=mariner-2.0&epoch=2"
            ),
            "{variant}: {purls:?}"
        );
        assert_eq!(syft_rpms(&work, &tag), without_epochs, "{variant}: as Syft");
        docker(&["rmi", "-f", &tag]);
    }

    // The database kept beside its manifest: each package once, from the database.
    std::fs::create_dir_all(db_root.join("etc")).unwrap();
    std::fs::write(db_root.join("etc/os-release"), MARINER).unwrap();
    std::fs::create_dir_all(db_root.join("var/lib/rpmmanifest")).unwrap();
    std::fs::write(db_root.join(MANIFEST), manifest("%{EPOCH}")).unwrap();
    let tag = format!("vouch-test/rpm-manifest-db:{}", std::process::id());
    import_dir(&db_root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    let paths: Vec<String> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:rpm/"))
        .map(|p| p.4)
        .collect();
    assert_eq!(paths.len(), SPECS.len(), "{paths:?}");
    assert!(
        paths.iter().all(|p| p == "/var/lib/rpm/rpmdb.sqlite"),
        "{paths:?}"
    );
    docker(&["rmi", "-f", &tag]);

    // Only the name list: said, not guessed.
    let names = run(Command::new("rpm").args(["-qa", "--dbpath"]).arg(&db));
    let layer = Layer::new()
        .file("etc/os-release", MARINER)
        .file("var/lib/rpmmanifest/container-manifest-1", &names);
    let archive = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("m1:1"));
    let out = run_vouch(archive.path(), &["sbom", "docker-archive:img.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/var/lib/rpmmanifest/container-manifest-1 without"),
        "{}",
        stderr(&out)
    );
}
