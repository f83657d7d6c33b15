//! Private keys in every format the real tools write (`openssl`, `ssh-keygen`, `puttygen`), for the
//! policy test and as fuzz seeds.

use std::path::Path;
use std::process::Command;

/// Runs a key-making tool, failing the test with its output when it fails.
pub fn make_key(program: &str, args: &[&str], dir: &Path) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (make test installs it): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Keys in every format the tools write, and what the finding must say of each.
pub fn real_keys(dir: &Path) -> Vec<(&'static str, &'static str)> {
    let openssl = |args: &[&str]| make_key("openssl", args, dir);
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "rsa-pkcs8.pem",
    ]);
    openssl(&[
        "pkey",
        "-in",
        "rsa-pkcs8.pem",
        "-traditional",
        "-out",
        "rsa-pkcs1.pem",
    ]);
    openssl(&[
        "pkey",
        "-in",
        "rsa-pkcs8.pem",
        "-traditional",
        "-aes256",
        "-passout",
        "pass:pw",
        "-out",
        "rsa-legacy-encrypted.pem",
    ]);
    openssl(&[
        "pkey",
        "-in",
        "rsa-pkcs8.pem",
        "-aes256",
        "-passout",
        "pass:pw",
        "-out",
        "rsa-pkcs8-encrypted.pem",
    ]);
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-out",
        "ec-pkcs8.pem",
    ]);
    openssl(&[
        "pkey",
        "-in",
        "ec-pkcs8.pem",
        "-traditional",
        "-out",
        "ec-sec1.pem",
    ]);
    openssl(&["genpkey", "-algorithm", "ED25519", "-out", "ed25519.pem"]);
    openssl(&[
        "genpkey",
        "-genparam",
        "-algorithm",
        "DSA",
        "-pkeyopt",
        "dsa_paramgen_bits:2048",
        "-out",
        "dsa-params.pem",
    ]);
    openssl(&[
        "genpkey",
        "-paramfile",
        "dsa-params.pem",
        "-out",
        "dsa-pkcs8.pem",
    ]);
    openssl(&[
        "pkey",
        "-in",
        "dsa-pkcs8.pem",
        "-traditional",
        "-out",
        "dsa-openssl.pem",
    ]);
    std::fs::remove_file(dir.join("dsa-params.pem")).unwrap();
    // A certificate and then its key, as HAProxy and others read a combined PEM.
    openssl(&[
        "req",
        "-x509",
        "-key",
        "ec-pkcs8.pem",
        "-subj",
        "/CN=x",
        "-days",
        "1",
        "-out",
        "cert.pem",
    ]);
    let mut combined = std::fs::read(dir.join("cert.pem")).unwrap();
    combined.extend(std::fs::read(dir.join("ec-pkcs8.pem")).unwrap());
    std::fs::write(dir.join("combined.pem"), combined).unwrap();
    let ssh_keygen = |args: &[&str]| make_key("ssh-keygen", args, dir);
    ssh_keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        "",
        "-f",
        "ssh-ed25519",
    ]);
    ssh_keygen(&["-q", "-t", "ecdsa", "-N", "", "-C", "", "-f", "ssh-ecdsa"]);
    ssh_keygen(&[
        "-q",
        "-t",
        "rsa",
        "-b",
        "2048",
        "-N",
        "pw",
        "-C",
        "",
        "-f",
        "ssh-rsa-encrypted",
    ]);
    std::fs::write(dir.join("passphrase"), "pw\n").unwrap();
    make_key(
        "puttygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-o",
            "putty.ppk",
            "--new-passphrase",
            "/dev/null",
        ],
        dir,
    );
    make_key(
        "puttygen",
        &[
            "-q",
            "-t",
            "rsa",
            "-b",
            "2048",
            "-o",
            "putty-encrypted.ppk",
            "--new-passphrase",
            "passphrase",
        ],
        dir,
    );
    for public in [
        "ssh-ed25519.pub",
        "ssh-ecdsa.pub",
        "ssh-rsa-encrypted.pub",
        "passphrase",
        "cert.pem",
    ] {
        std::fs::remove_file(dir.join(public)).unwrap();
    }
    vec![
        ("combined.pem", "EC P-384 (PKCS#8), unencrypted"),
        ("dsa-openssl.pem", "DSA 2048-bit (OpenSSL), unencrypted"),
        ("dsa-pkcs8.pem", "DSA (PKCS#8), unencrypted"),
        ("ec-pkcs8.pem", "EC P-384 (PKCS#8), unencrypted"),
        ("ec-sec1.pem", "EC P-384 (SEC1), unencrypted"),
        ("ed25519.pem", "Ed25519 (PKCS#8), unencrypted"),
        (
            "putty-encrypted.ppk",
            "ssh-rsa (PuTTY PPK v3), encrypted (aes256-cbc)",
        ),
        ("putty.ppk", "ssh-ed25519 (PuTTY PPK v3), unencrypted"),
        (
            "rsa-legacy-encrypted.pem",
            "RSA (traditional PEM), encrypted (AES-256-CBC)",
        ),
        ("rsa-pkcs1.pem", "RSA 2048-bit (PKCS#1), unencrypted"),
        (
            "rsa-pkcs8-encrypted.pem",
            "private key (PKCS#8), encrypted (PBES2, PBKDF2)",
        ),
        ("rsa-pkcs8.pem", "RSA 2048-bit (PKCS#8), unencrypted"),
        ("ssh-ecdsa", "ecdsa-sha2-nistp256 (OpenSSH), unencrypted"),
        ("ssh-ed25519", "ssh-ed25519 (OpenSSH), unencrypted"),
        ("ssh-rsa-encrypted", "ssh-rsa (OpenSSH), encrypted"),
    ]
}
