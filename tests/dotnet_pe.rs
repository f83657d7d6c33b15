//! .NET assemblies without a `deps.json` naming them: Mono's class libraries from Debian's
//! packages (unpacked without dpkg) and the assemblies PyPI's pythonnet and clr_loader wheels ship
//! (built by the .NET SDK), alone in an image. Their version resources are compared with what
//! exiftool reads, and the components with what Syft's dotnet-portable-executable cataloger makes.
//! An assembly a `deps.json` beside it names is that package's.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

fn run(program: &str, args: &[&str], cwd: &Path) {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", stderr(&out));
}

#[test]
fn assemblies_are_named_by_their_version_resources() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let app = work.join("root/app");
    std::fs::create_dir_all(&app).unwrap();
    unpack_debs(
        &["libmono-system-core4.0-cil", "libmono-system-xml4.0-cil"],
        &work.join("mono"),
    );
    let gac = work.join("mono/usr/lib/mono/gac");
    for (dll, dir) in [
        ("System.Core.dll", "System.Core/4.0.0.0__b77a5c561934e089"),
        ("System.Xml.dll", "System.Xml/4.0.0.0__b77a5c561934e089"),
    ] {
        std::fs::copy(gac.join(dir).join(dll), app.join(dll)).unwrap();
    }
    run(
        "python3",
        &[
            "-m",
            "pip",
            "download",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "-d",
            ".",
            "pythonnet==3.2.1",
            "clr_loader==0.3.1",
        ],
        work,
    );
    for wheel in [
        "pythonnet-3.2.1-cp311.cp312.cp313.cp314.cp315-none-any.whl",
        "clr_loader-0.3.1-py3-none-any.whl",
    ] {
        run("python3", &["-m", "zipfile", "-e", wheel, "wheels"], work);
    }
    std::fs::copy(
        work.join("wheels/pythonnet/runtime/Python.Runtime.dll"),
        app.join("Python.Runtime.dll"),
    )
    .unwrap();
    let named = work.join("root/named");
    std::fs::create_dir_all(&named).unwrap();
    std::fs::copy(
        work.join("wheels/clr_loader/ffi/dlls/amd64/ClrLoader.dll"),
        named.join("ClrLoader.dll"),
    )
    .unwrap();
    std::fs::write(
        named.join("host.deps.json"),
        r#"{"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"}, "targets": {".NETCoreApp,Version=v8.0": {"ClrLoader/1.0.0": {"runtime": {"lib/net8.0/ClrLoader.dll": {}}}}},
            "libraries": {"ClrLoader/1.0.0": {"type": "package", "serviceable": true, "sha512": "sha512-x", "path": "clrloader/1.0.0"}}}"#,
    )
    .unwrap();

    // exiftool's reading of each assembly in /app.
    let out = Command::new("exiftool")
        .arg("-j")
        .arg(&app)
        .output()
        .expect("exiftool (make deps installs libimage-exiftool-perl)");
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    let exif: BTreeSet<(String, String, String)> = read
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["FileName"].as_str().unwrap().to_string();
            (
                format!("/app/{file}"),
                f["FileVersion"].to_string().trim_matches('"').to_string(),
                f["CompanyName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(exif.len(), 3, "{read}");

    let tag = format!("vouch-test/dotnet-pe:{}", std::process::id());
    import_dir(&work.join("root"), &tag);
    let (sbom, _) = sbom_of_image(&tag);
    let components = sbom["components"].as_array().unwrap();
    let pe: Vec<&Value> = components
        .iter()
        .filter(|c| component_property(c, "vouch:cataloger").as_deref() == Some("dotnet-pe"))
        .collect();
    let ours: BTreeSet<(String, String, String)> = pe
        .iter()
        .map(|c| {
            (
                component_property(c, "vouch:path").unwrap(),
                component_property(c, "vouch:pe:fileVersion").unwrap(),
                component_property(c, "vouch:pe:companyName").unwrap(),
            )
        })
        .collect();
    assert_eq!(ours, exif, "the fields exiftool reads");
    // The assembly deps.json names is its package only.
    let clr: Vec<String> = packages(&sbom)
        .into_iter()
        .filter(|p| p.0 == "ClrLoader")
        .map(|p| p.2)
        .collect();
    assert_eq!(clr, ["pkg:nuget/ClrLoader@1.0.0"]);

    // Syft names and versions them the same way.
    let syft = syft_json(work, &tag);
    let syft_pe: BTreeSet<(String, String, String)> = syft["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["foundBy"] == "dotnet-portable-executable-cataloger")
        .map(|a| {
            (
                a["locations"][0]["path"].as_str().unwrap().to_string(),
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
            )
        })
        .filter(|(path, _, _)| path.starts_with("/app/"))
        .collect();
    let ours: BTreeSet<(String, String, String)> = pe
        .iter()
        .map(|c| {
            (
                component_property(c, "vouch:path").unwrap(),
                c["name"].as_str().unwrap().to_string(),
                c["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ours, syft_pe, "as Syft");
    docker(&["rmi", "-f", &tag]);
}
