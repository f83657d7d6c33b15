//! Real rpm databases for the tests: packages built by `rpmbuild` and installed into an rpm 4.18
//! sqlite database by `rpm` itself, and the same header blobs stored as a Berkeley DB `Packages` by
//! libdb's own `db5.3_load` and as an NDB `Packages.db` laid out as rpm's `rpmpkg.c` writes it.
//! Used by the rpm cataloger's tests and as fuzz seeds.

use std::path::Path;
use std::process::Command;

pub const SPECS: &[(&str, &str)] = &[
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

pub fn run(cmd: &mut Command) -> String {
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

/// The (instance number, header blob) rows rpm wrote into an rpmdb.sqlite.
pub fn sqlite_headers(db: &Path) -> Vec<(u32, Vec<u8>)> {
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
pub fn installed_headers() -> (tempfile::TempDir, Vec<(u32, Vec<u8>)>) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_root = dir.path().join("sqlite");
    install_rpms(dir.path(), &sqlite_root);
    let headers = sqlite_headers(&sqlite_root.join("var/lib/rpm"));
    (dir, headers)
}

/// Writes the headers as a Berkeley DB hash `Packages` with libdb's own loader: key = instance number
/// in the database's byte order (instance 0 holds the next-instance counter, as rpm keeps it).
pub fn write_bdb(headers: &[(u32, Vec<u8>)], page_size: u32, big_endian: bool, file: &Path) {
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

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Adler-32 as RFC 1950 defines it (written here, not taken from vouch's dependencies).
pub fn adler32(bytes: &[u8]) -> u32 {
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
pub fn ndb_bytes(headers: &[(u32, Vec<u8>)]) -> Vec<u8> {
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

/// Builds the packages and installs them (database only) into `root/var/lib/rpm`.
pub fn install_rpms(work: &Path, root: &Path) {
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
