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
    (
        // A header of some 20 KB: several overflow pages in a Berkeley DB of 4 KB pages.
        "many-files",
        "Name: many-files\nVersion: 3\nRelease: 1\nSummary: t\nLicense: MIT\nBuildArch: noarch\n\
         %description\nt\n%install\nmkdir -p %{buildroot}/usr/share/many-files\n\
         for i in $(seq 1 400); do echo $i > %{buildroot}/usr/share/many-files/a-rather-long-file-name-$i; done\n\
         %files\n/usr/share/many-files\n",
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

/// The (instance number, header blob) rows rpm wrote into an rpmdb.sqlite.
fn sqlite_headers(db: &Path) -> Vec<(u32, Vec<u8>)> {
    let connection = rusqlite::Connection::open(db.join("rpmdb.sqlite")).unwrap();
    let mut statement = connection
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .unwrap();
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// The packages installed into `DIR/sqlite/var/lib/rpm`, and the header blobs rpm stored for them.
fn installed_headers() -> (tempfile::TempDir, Vec<(u32, Vec<u8>)>) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_root = dir.path().join("sqlite");
    install_rpms(dir.path(), &sqlite_root);
    let headers = sqlite_headers(&sqlite_root.join("var/lib/rpm"));
    (dir, headers)
}

/// Writes the headers as a Berkeley DB hash `Packages` with libdb's own loader: key = instance number
/// in the database's byte order (instance 0 holds the next-instance counter, as rpm keeps it).
fn write_bdb(headers: &[(u32, Vec<u8>)], page_size: u32, big_endian: bool, file: &Path) {
    let number = |n: u32| {
        if big_endian {
            hex(&n.to_be_bytes())
        } else {
            hex(&n.to_le_bytes())
        }
    };
    let order = if big_endian { 4321 } else { 1234 };
    let mut dump = format!(
        "VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize={page_size}\ndb_lorder={order}\nHEADER=END\n"
    );
    let next = headers.iter().map(|h| h.0).max().unwrap_or(0) + 1;
    dump.push_str(&format!(" {}\n {}\n", number(0), number(next)));
    for (instance, blob) in headers {
        dump.push_str(&format!(" {}\n {}\n", number(*instance), hex(blob)));
    }
    dump.push_str("DATA=END\n");
    let dump_file = file.with_extension("dump");
    std::fs::write(&dump_file, dump).unwrap();
    run(Command::new("db5.3_load")
        .arg("-f")
        .arg(&dump_file)
        .arg(file));
    std::fs::remove_file(dump_file).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Adler-32 as RFC 1950 defines it (written here, not taken from vouch's dependencies).
fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// The headers as an NDB `Packages.db`, laid out as rpm's `rpmpkg.c` writes one: a 32-byte header,
/// one 4 KB slot page, then per package a blob head, the blob, zero padding and a tail carrying the
/// Adler-32 of everything before it, all in 16-byte blocks.
fn ndb_bytes(headers: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let le = |n: u32| n.to_le_bytes();
    let mut file = vec![0u8; 4096];
    file[0..4].copy_from_slice(b"RpmP");
    file[8..12].copy_from_slice(&le(1)); // generation
    file[12..16].copy_from_slice(&le(1)); // slot pages
    file[16..20].copy_from_slice(&le(headers.len() as u32 + 1)); // next package index
    for slot in 0..(4096 - 32) / 16 {
        file[32 + 16 * slot..36 + 16 * slot].copy_from_slice(b"Slot");
    }
    for (n, (_, blob)) in headers.iter().enumerate() {
        let index = n as u32 + 1;
        let blocks = (16 + blob.len() + 12).div_ceil(16);
        let offset = file.len();
        let mut stored = Vec::new();
        stored.extend_from_slice(b"BlbS");
        stored.extend_from_slice(&le(index));
        stored.extend_from_slice(&le(1_700_000_000));
        stored.extend_from_slice(&le(blob.len() as u32));
        stored.extend_from_slice(blob);
        stored.resize(blocks * 16 - 12, 0);
        let checksum = adler32(&stored);
        stored.extend_from_slice(&le(checksum));
        stored.extend_from_slice(&le(blob.len() as u32));
        stored.extend_from_slice(b"BlbE");
        file.extend_from_slice(&stored);
        let slot = 32 + 16 * n;
        file[slot + 4..slot + 8].copy_from_slice(&le(index));
        file[slot + 8..slot + 12].copy_from_slice(&le((offset / 16) as u32));
        file[slot + 12..slot + 16].copy_from_slice(&le(blocks as u32));
    }
    file
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
