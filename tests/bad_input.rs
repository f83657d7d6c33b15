//! Hostile and broken input: each case gets a one-line error naming the input, the documented exit
//! code (2 usage, 3 runtime), no panic, and nothing written anywhere (the working directory keeps
//! only what the test put there).

mod support;

use std::path::Path;
use support::*;

/// Runs `sbom IMAGE --output out.json` in a directory holding `img.tar`, and checks the failure.
fn assert_fails(archive: &[u8], image_arg: &str, code: i32, message: &str) {
    let dir = dir_with_archive(archive);
    assert_fails_in(
        dir.path(),
        &["sbom", image_arg, "--output", "out.json"],
        code,
        message,
    );
}

fn assert_fails_in(dir: &Path, args: &[&str], code: i32, message: &str) {
    let before = listing(dir);
    let out = run_vouch(dir, args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: stderr was: {err}");
    assert!(
        err.contains(message),
        "{args:?}: expected {message:?} in: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let error_lines: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(error_lines.len(), 1, "one error line: {err}");
    assert_eq!(listing(dir), before, "nothing written on failure");
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn simple_layer() -> Layer {
    Layer::new().file("var/lib/dpkg/status", &dpkg_paragraph("bash", "5.2"))
}

#[test]
fn a_file_that_is_not_a_tar() {
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8 + 1).collect();
    assert_fails(
        &junk,
        "docker-archive:img.tar",
        3,
        "docker-archive:img.tar: not a tar archive",
    );
}

#[test]
fn an_empty_file() {
    assert_fails(b"", "docker-archive:img.tar", 3, "not a tar archive");
}

#[test]
fn a_truncated_layer() {
    // A layer big enough that cutting the archive lands inside it.
    let big = "x".repeat(64 * 1024);
    let layer = simple_layer().file("usr/share/big", &big);
    let archive = TestImage::new(vec![layer.bytes()]).docker_archive("t:1");
    let cut = &archive[..archive.len() / 2];
    // Indexing the archive finds that the file ends inside the layer, and names it.
    assert_fails(
        cut,
        "docker-archive:img.tar",
        3,
        "the archive is truncated or corrupt",
    );
}

#[test]
fn a_truncated_gzip_layer_in_an_oci_archive() {
    let big: String = (0..200_000u32)
        .map(|i| char::from(b'a' + (i * 31 % 26) as u8))
        .collect();
    let layer = simple_layer().file("usr/share/big", &big);
    let image = TestImage::new(vec![layer.bytes()]);
    // Cut the stored gzip blob in half but keep the archive itself well formed.
    let (mut entries, _) = image.oci_entries(Compression::Gzip, "t:1");
    for (path, bytes) in entries.iter_mut() {
        if path.starts_with("blobs/") && bytes.starts_with(&[0x1f, 0x8b]) {
            bytes.truncate(bytes.len() / 2);
        }
    }
    assert_fails(
        &tar_of(&entries),
        "oci-archive:img.tar",
        3,
        "layer blobs/sha256/",
    );
}

#[test]
fn a_manifest_naming_a_missing_layer() {
    let image = TestImage::new(vec![simple_layer().bytes()]);
    let config = image.config_bytes();
    let config_name = format!("{}.json", &sha256(&config)[7..]);
    let manifest = serde_json::json!([{"Config": config_name, "RepoTags": ["t:1"], "Layers": ["deadbeef/layer.tar"]}]);
    let archive = tar_of(&[
        (config_name.clone(), config),
        (
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
    ]);
    assert_fails(
        &archive,
        "docker-archive:img.tar",
        3,
        "names layer deadbeef/layer.tar, which the input does not contain",
    );
}

#[test]
fn a_layer_entry_climbing_out_with_dotdot() {
    let layer = Layer::new().file("etc/../../../tmp/vouch-escape", "pwned");
    let archive = TestImage::new(vec![layer.bytes()]).docker_archive("t:1");
    assert_fails(
        &archive,
        "docker-archive:img.tar",
        3,
        "climbs out of the image root",
    );
    assert!(!Path::new("/tmp/vouch-escape").exists());
}

#[test]
fn a_layer_entry_with_an_absolute_path() {
    let layer = Layer::new().file("/etc/passwd", "root::0:0::/:/bin/sh\n");
    let archive = TestImage::new(vec![layer.bytes()]).docker_archive("t:1");
    assert_fails(
        &archive,
        "docker-archive:img.tar",
        3,
        "\"/etc/passwd\" is absolute",
    );
}

#[test]
fn a_hostile_blob_digest_in_an_oci_index() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    std::fs::create_dir_all(&layout).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        layout.join("index.json"),
        r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../../etc/passwd","size":1}]}"#,
    )
    .unwrap();
    assert_fails_in(
        dir.path(),
        &["sbom", "oci-dir:layout", "-o", "out.json"],
        3,
        "is not a sha256 digest",
    );
}

#[test]
fn a_symlink_loop_on_os_release() {
    let layer = simple_layer()
        .symlink("etc/os-release", "os-release.d")
        .symlink("etc/os-release.d", "/etc/os-release")
        .symlink("usr/lib/os-release", "../../etc/os-release");
    let archive = TestImage::new(vec![layer.bytes()]).docker_archive("t:1");
    assert_fails(
        &archive,
        "docker-archive:img.tar",
        3,
        "symlink loop while resolving /etc/os-release",
    );
}

#[test]
fn a_layer_that_does_not_match_its_diff_id() {
    let mut image = TestImage::new(vec![simple_layer().bytes()]);
    image.diff_ids_override = Some(vec![format!("sha256:{}", "0".repeat(64))]);
    let archive = image.oci_archive(Compression::Gzip, "t:1");
    assert_fails(
        &archive,
        "oci-archive:img.tar",
        3,
        "corrupt or was tampered with",
    );
}

#[test]
fn a_missing_file_and_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_in(
        dir.path(),
        &["sbom", "docker-archive:nope.tar"],
        3,
        "docker-archive:nope.tar: cannot open",
    );
    std::fs::create_dir(dir.path().join("d")).unwrap();
    assert_fails_in(
        dir.path(),
        &["sbom", "docker-archive:d"],
        3,
        "is a directory",
    );
    assert_fails_in(
        dir.path(),
        &["sbom", "oci-dir:d"],
        3,
        "not an OCI image layout directory",
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_in(dir.path(), &["sbom"], 2, "IMAGE");
    assert_fails_in(dir.path(), &["sbom", "oci-archive:"], 2, "needs a value");
    assert_fails_in(dir.path(), &["sbom", "x", "--format", "yaml"], 2, "yaml");
}

#[test]
fn an_output_directory_that_does_not_exist() {
    let archive = TestImage::new(vec![simple_layer().bytes()]).docker_archive("t:1");
    let dir = dir_with_archive(&archive);
    assert_fails_in(
        dir.path(),
        &[
            "sbom",
            "docker-archive:img.tar",
            "--output",
            "missing/out.json",
        ],
        3,
        "cannot write missing/out.json",
    );
}

#[test]
fn an_engine_that_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_in(
        dir.path(),
        &["-H", "unix:///nonexistent/docker.sock", "sbom", "debian:12"],
        3,
        "cannot reach the Docker engine at unix:///nonexistent/docker.sock (--host)",
    );
    // The same through DOCKER_HOST.
    let out = vouch()
        .args(["sbom", "debian:12"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("(DOCKER_HOST)"), "{}", stderr(&out));
}

#[test]
fn broken_dpkg_paragraphs_are_skipped_with_a_warning() {
    let status = dpkg_paragraph("good-one", "1.0")
        + "Package: broken\nthis line has no colon\nVersion: 1\n\n"
        + &dpkg_paragraph("good-two", "2.0")
        + "Package: no-version\nStatus: install ok installed\n\n";
    let layer = Layer::new().file("var/lib/dpkg/status", &status);
    let dir = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("t:1"));
    let out = run_vouch(dir.path(), &["sbom", "docker-archive:img.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("/var/lib/dpkg/status: line 8: not a 'Field: value' line"),
        "{err}"
    );
    assert!(
        err.contains("package no-version has no Version field"),
        "{err}"
    );
    let sbom = valid_cyclonedx(&out.stdout);
    let names: Vec<String> = packages(&sbom).into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["good-one", "good-two"]);

    let quiet = run_vouch(dir.path(), &["sbom", "-q", "docker-archive:img.tar"]);
    assert!(stderr(&quiet).is_empty(), "--quiet silences warnings");
}

/// `--output` naming a device, a FIFO or a symbolic link writes through it: the device stays a
/// device (an atomic rename over it once replaced the machine's `/dev/null`), the link stays a link
/// and its target gets the SBOM. The device is a null device made in a temporary directory, so a
/// regression cannot damage the machine's own.
#[test]
fn outputs_are_written_through_devices_and_links() {
    use std::os::unix::fs::FileTypeExt;
    let archive = TestImage::new(vec![simple_layer().bytes()]).docker_archive("t:1");
    let dir = dir_with_archive(&archive);
    let device = dir.path().join("null");
    let c_path = std::ffi::CString::new(device.as_os_str().as_encoded_bytes()).unwrap();
    // Character device 1:3 (what /dev/null is on Linux); mknod needs root, as CI runs.
    let made = unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(
        made,
        0,
        "mknod of a null device failed ({}): this test needs root, as CI runs it",
        std::io::Error::last_os_error()
    );
    let out = run_vouch(
        dir.path(),
        &["sbom", "docker-archive:img.tar", "--output", "null"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let meta = std::fs::metadata(&device).unwrap();
    assert!(meta.file_type().is_char_device(), "still a device");
    assert_eq!(meta.len(), 0);

    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink("real/sbom.json", dir.path().join("link.json")).unwrap();
    let out = run_vouch(
        dir.path(),
        &["sbom", "docker-archive:img.tar", "--output", "link.json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(dir.path().join("link.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link is kept");
    let written = std::fs::read(dir.path().join("real/sbom.json")).unwrap();
    valid_cyclonedx(&written);
    assert_eq!(
        listing(dir.path()),
        ["img.tar", "link.json", "null", "real"],
        "no temporary file left"
    );
}

/// Text from an image (a package name with a terminal escape and a bell) is shown escaped in a
/// table, never passed to the terminal.
#[test]
fn control_characters_from_an_image_are_escaped_in_tables() {
    let status = "Package: evil\u{1b}[2Jred\nStatus: install ok installed\nVersion: 1.0\u{7}\nArchitecture: amd64\n\n";
    let layer = Layer::new().file("var/lib/dpkg/status", status);
    let archive = TestImage::new(vec![layer.bytes()]).docker_archive("evil\u{1b}]0;pwned\u{7}:1");
    let dir = dir_with_archive(&archive);
    let out = run_vouch(
        dir.path(),
        &["sbom", "docker-archive:img.tar", "--format", "table"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("evil\\u{1b}[2Jred"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "{table:?}"
    );
    // The verdict table names the image (its tag came from the archive).
    let out = run_vouch(dir.path(), &["check", "docker-archive:img.tar"]);
    let verdict = String::from_utf8_lossy(&out.stdout);
    assert!(verdict.contains("evil\\u{1b}]0;pwned"), "{verdict}");
    assert!(
        !verdict.contains('\u{1b}') && !verdict.contains('\u{7}'),
        "{verdict:?}"
    );
}

/// Every command that reads an image names every form IMAGE takes, registry:REF included (the
/// first thing a newcomer reads), and the top-level help says them once more.
#[test]
fn every_command_that_reads_an_image_names_every_image_form_in_its_help() {
    let forms = [
        "docker:NAME",
        "docker-archive:PATH",
        "oci-archive:PATH",
        "oci-dir:PATH",
        "registry:REF",
    ];
    for command in ["sbom", "check", "scan", "attest", "verify"] {
        let out = vouch().args([command, "--help"]).output().unwrap();
        assert!(out.status.success(), "{command} --help");
        let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for form in forms {
            assert!(help.contains(form), "{command} --help lacks {form}: {help}");
        }
    }
    let out = vouch().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(help.contains("registry:REF"), "{help}");
}

/// A package name with characters XML 1.0 cannot carry (a control character, an escape sequence)
/// leaves the XML SBOM readable: lxml, an independent reader, parses it, and the name shows those
/// characters as U+FFFD. The XML writer passed them through once, and the document was unreadable.
#[test]
fn a_package_name_with_control_characters_keeps_the_xml_sbom_readable() {
    let layer = Layer::new().file(
        "srv/node_modules/evil/package.json",
        r#"{"name":"evil\u0001\u001b[31mname","version":"1.0.0","description":"a\u0002b"}"#,
    );
    let dir = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("t:1"));
    let out = run_vouch(
        dir.path(),
        &[
            "sbom",
            "docker-archive:img.tar",
            "--format",
            "cyclonedx-xml",
            "--output",
            "sbom.xml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let read = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, json\nfrom lxml import etree\n\
             ns = {'c': 'http://cyclonedx.org/schema/bom/1.5'}\n\
             doc = etree.parse(sys.argv[1])\n\
             print(json.dumps([n.text for n in doc.getroot().findall('c:components/c:component/c:name', ns)]))",
        ])
        .arg(dir.path().join("sbom.xml"))
        .output()
        .expect("python3 runs");
    assert!(read.status.success(), "lxml: {}", stderr(&read));
    let names: Vec<String> = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(names, ["evil\u{fffd}\u{fffd}[31mname"]);
}

/// A policy path naming something without a size (a device, a pipe) is read only up to the policy
/// limit: `/dev/zero` never ends, and was read whole until memory ran out.
#[test]
fn a_policy_that_never_ends_is_refused_at_the_limit() {
    let dir = dir_with_archive(&TestImage::new(vec![simple_layer().bytes()]).docker_archive("t:1"));
    assert_fails_in(
        dir.path(),
        &["check", "docker-archive:img.tar", "--policy", "/dev/zero"],
        2,
        "/dev/zero: cannot read the policy: more than the 16777216-byte limit",
    );
}
