//! Building with `docker buildx build` when buildx is installed: the user's flags are passed on,
//! buildx keeps the terminal for its own progress display, `--load` puts the result in the engine,
//! and `--metadata-file` tells the image: `containerimage.config.digest` (the image ID) when the
//! builder reports it, else `containerimage.digest` (which the docker driver sets to the image ID
//! when it loads the image into the engine); the caller confirms it by inspecting the engine.

use super::{BuildError, BuildOptions};
use std::ffi::OsString;
use std::process::{Command, Stdio};

/// Whether `docker buildx` answers (the docker CLI finds the plugin with the same global flags).
pub fn available(docker_prefix: &[OsString]) -> bool {
    Command::new("docker")
        .args(docker_prefix)
        .args(["buildx", "version"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The `docker buildx build` arguments for `options`, writing metadata to `metadata`.
pub fn arguments(options: &BuildOptions, metadata: &std::path::Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["buildx".into(), "build".into()];
    let mut flag = |name: &str, value: &str| {
        args.push(name.into());
        args.push(value.into());
    };
    for tag in &options.tags {
        flag("--tag", tag);
    }
    if let Some(file) = &options.file {
        flag("--file", &file.display().to_string());
    }
    for (key, value) in &options.build_args {
        flag("--build-arg", &format!("{key}={value}"));
    }
    for (key, value) in &options.labels {
        flag("--label", &format!("{key}={value}"));
    }
    if let Some(target) = &options.target {
        flag("--target", target);
    }
    if let Some(platform) = &options.platform {
        flag("--platform", platform);
    }
    flag("--metadata-file", &metadata.display().to_string());
    if options.no_cache {
        args.push("--no-cache".into());
    }
    if options.pull {
        args.push("--pull".into());
    }
    args.push("--load".into());
    args.push(options.context.clone().into_os_string());
    args
}

/// The image the metadata file names: (config digest if given, else the image digest).
pub fn image_from_metadata(bytes: &[u8]) -> Result<String, BuildError> {
    let metadata: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| BuildError::Failed(format!("buildx wrote metadata that is not JSON ({e})")))?;
    ["containerimage.config.digest", "containerimage.digest"]
        .iter()
        .find_map(|key| metadata[key].as_str())
        .filter(|d| d.starts_with("sha256:"))
        .map(str::to_string)
        .ok_or_else(|| {
            BuildError::Failed(
                "buildx's metadata names no image digest (is the builder's output an image?)"
                    .into(),
            )
        })
}

/// Runs the build; returns the image digest buildx reports.
pub fn build(docker_prefix: &[OsString], options: &BuildOptions) -> Result<String, BuildError> {
    let dir = tempfile_dir()?;
    let metadata = dir.join("metadata.json");
    let status = Command::new("docker")
        .args(docker_prefix)
        .args(arguments(options, &metadata))
        .stdin(Stdio::null())
        .status()
        .map_err(|e| BuildError::Io(format!("running docker buildx: {e}")))?;
    let result = if status.success() {
        std::fs::read(&metadata)
            .map_err(|e| BuildError::Failed(format!("buildx wrote no metadata file ({e})")))
            .and_then(|bytes| image_from_metadata(&bytes))
    } else {
        Err(BuildError::Failed(format!(
            "docker buildx build exited with {status} (its output is above)"
        )))
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A private temporary directory for the metadata file.
fn tempfile_dir() -> Result<std::path::PathBuf, BuildError> {
    let dir = std::env::temp_dir().join(format!(
        "vouch-build-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| BuildError::Io(format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_prefers_the_config_digest() {
        let id = format!("sha256:{}", "a".repeat(64));
        let manifest = format!("sha256:{}", "b".repeat(64));
        let both = format!(
            r#"{{"containerimage.digest":"{manifest}","containerimage.config.digest":"{id}"}}"#
        );
        assert_eq!(image_from_metadata(both.as_bytes()).unwrap(), id);
        let docker_driver = format!(r#"{{"buildx.build.ref":"x","containerimage.digest":"{id}"}}"#);
        assert_eq!(image_from_metadata(docker_driver.as_bytes()).unwrap(), id);
        assert!(image_from_metadata(b"{}").is_err());
        assert!(image_from_metadata(b"not json").is_err());
    }

    #[test]
    fn flags_are_passed_on() {
        let options = BuildOptions {
            context: "ctx".into(),
            file: Some("ctx/Dockerfile.app".into()),
            tags: vec!["a:1".into(), "b:2".into()],
            build_args: vec![("V".into(), "1 2".into())],
            labels: vec![("team".into(), "x".into())],
            target: Some("final".into()),
            platform: Some("linux/amd64".into()),
            no_cache: true,
            pull: true,
        };
        let args: Vec<String> = arguments(&options, std::path::Path::new("/m.json"))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args.join(" "),
            "buildx build --tag a:1 --tag b:2 --file ctx/Dockerfile.app --build-arg V=1 2 --label team=x --target final --platform linux/amd64 --metadata-file /m.json --no-cache --pull --load ctx"
        );
    }
}
