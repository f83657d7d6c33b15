//! The engine's authorization requests, read as the engine's router will act on them: which ones
//! run an image. The engine passes the URI as the client sent it and the body only when it is JSON
//! and under 1 MiB; its router decodes percent-escapes, takes any `/vX.Y` version prefix, and its
//! JSON decoder matches field names case-insensitively. A request is classified the same way, and
//! one that cannot be read with certainty is refused rather than waved through.

use crate::policy::rules::runtime::Privileges;
use base64::Engine as _;
use serde::Deserialize;

/// An `AuthZPlugin.AuthZReq` body, as the engine sends it (moby's `pkg/authorization.Request`:
/// `RequestUri`, not `RequestURI`; `RequestBody` is base64, left unread until a request that runs
/// an image needs it). A request without a method or URI is not read as one that runs nothing:
/// it fails to parse, and is refused.
#[derive(Debug, Deserialize)]
pub struct AuthzRequest {
    #[serde(rename = "RequestMethod")]
    pub method: String,
    #[serde(rename = "RequestUri")]
    pub uri: String,
    #[serde(rename = "RequestBody", default)]
    body: Option<Box<serde_json::value::RawValue>>,
}

/// What a request does, as far as running images and their privileges go.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// `POST /containers/create` of this image reference, with these privileges.
    Create { image: String, asked: Privileges },
    /// `POST /containers/{name}/start` (or `restart`).
    Start { container: String },
    /// `POST /containers/{name}/exec`: a process in a running container, with these privileges.
    Exec {
        container: String,
        asked: Privileges,
    },
    /// `POST /volumes/create` of a volume whose driver options bind a host path.
    Volume { asked: Privileges },
    /// Runs no image and asks no privilege.
    Other,
}

impl AuthzRequest {
    pub fn parse(bytes: &[u8]) -> Result<AuthzRequest, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not an authorization request ({e})"))
    }

    /// What the request does; an error when a request that may run an image cannot be read.
    pub fn action(&self) -> Result<Action, String> {
        if !self.method.eq_ignore_ascii_case("POST") {
            return Ok(Action::Other);
        }
        let path = route_path(&self.uri)?;
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["containers", "create"] => {
                let body = self.body_fields("the container configuration")?;
                let image = match text(&body, "Image", "the container configuration")? {
                    Some(image) if !image.trim().is_empty() => image,
                    _ => return Err("the container configuration names no image".into()),
                };
                Ok(Action::Create {
                    image,
                    asked: container_privileges(&body)?,
                })
            }
            // A restart starts the container again, from the same image: judged as a start.
            ["containers", name, "start" | "restart"] => Ok(Action::Start {
                container: (*name).to_string(),
            }),
            ["containers", name, "exec"] => {
                let body = self.body_fields("the exec configuration")?;
                Ok(Action::Exec {
                    container: (*name).to_string(),
                    asked: Privileges {
                        privileged: flag(&body, "Privileged", "the exec configuration")?,
                        user: text(&body, "User", "the exec configuration")?
                            .filter(|u| !u.is_empty()),
                        ..Default::default()
                    },
                })
            }
            ["volumes", "create"] => {
                let body = self.body_fields("the volume configuration")?;
                let asked = Privileges {
                    host_paths: bound_device(field(&body, "DriverOpts", "the volume")?)
                        .into_iter()
                        .collect(),
                    ..Default::default()
                };
                Ok(if asked == Privileges::default() {
                    Action::Other
                } else {
                    Action::Volume { asked }
                })
            }
            _ => Ok(Action::Other),
        }
    }

    /// The request body's top-level fields, in order (duplicates kept).
    fn body_fields(&self, what: &str) -> Result<Vec<(String, Value)>, String> {
        let body = match &self.body {
            Some(raw) if raw.get() != "null" => raw,
            _ => {
                return Err(format!("the engine passed no request body (it passes only JSON under 1 MiB), so {what} cannot be read"))
            }
        };
        let encoded: String = serde_json::from_str(body.get())
            .map_err(|e| format!("the request body is not base64 text ({e})"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .map_err(|e| format!("the request body is not base64 ({e})"))?;
        let fields: Fields = serde_json::from_slice(&decoded)
            .map_err(|e| format!("{what} is not a JSON object ({e})"))?;
        Ok(fields.0)
    }
}

type Value = serde_json::Value;

/// The field `name` of an object's `fields` as Go's decoder finds it (case-insensitively); two
/// fields it could take for `name` are refused, as a reader that takes another would be walked
/// around.
fn field<'a>(
    fields: &'a [(String, Value)],
    name: &str,
    what: &str,
) -> Result<Option<&'a Value>, String> {
    let mut found = fields
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value);
    match (found.next(), found.next()) {
        (Some(_), Some(_)) => Err(format!("{what} names {name} more than once")),
        (value, _) => Ok(value.filter(|v| !v.is_null())),
    }
}

/// An object's fields (a nested object has no duplicate keys left, but may have case variants).
fn object_fields(value: Option<&Value>) -> Vec<(String, Value)> {
    match value {
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => Vec::new(),
    }
}

fn text(fields: &[(String, Value)], name: &str, what: &str) -> Result<Option<String>, String> {
    match field(fields, name, what)? {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{what}'s {name} is not text")),
    }
}

fn flag(fields: &[(String, Value)], name: &str, what: &str) -> Result<bool, String> {
    match field(fields, name, what)? {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{what}'s {name} is not true or false")),
    }
}

fn texts(fields: &[(String, Value)], name: &str, what: &str) -> Result<Vec<String>, String> {
    match field(fields, name, what)? {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(format!("{what}'s {name} holds something that is not text")),
            })
            .collect(),
        Some(_) => Err(format!("{what}'s {name} is not a list")),
    }
}

/// The host path a volume's driver options bind (`type=none, o=bind, device=/etc` for the local
/// driver), if any.
fn bound_device(options: Option<&Value>) -> Option<String> {
    let options = object_fields(options);
    options
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("device"))
        .and_then(|(_, value)| value.as_str())
        .filter(|device| device.starts_with('/'))
        .map(str::to_string)
}

/// The privileges a container configuration asks for: `User` and its `HostConfig`.
fn container_privileges(body: &[(String, Value)]) -> Result<Privileges, String> {
    const HOST: &str = "the container's HostConfig";
    let host = object_fields(field(body, "HostConfig", "the container configuration")?);
    let mut asked = Privileges {
        privileged: flag(&host, "Privileged", HOST)?,
        capabilities: texts(&host, "CapAdd", HOST)?,
        security_options: texts(&host, "SecurityOpt", HOST)?,
        user: text(body, "User", "the container configuration")?.filter(|u| !u.is_empty()),
        ..Default::default()
    };
    for (mode, namespace) in [
        ("PidMode", "pid"),
        ("NetworkMode", "network"),
        ("IpcMode", "ipc"),
        ("UTSMode", "uts"),
    ] {
        if text(&host, mode, HOST)?.is_some_and(|m| m.eq_ignore_ascii_case("host")) {
            asked.host_namespaces.push(namespace.to_string());
        }
    }
    // `-v /src:/dst[:opts]`: a source that is a path is the host's (else it names a volume).
    for bind in texts(&host, "Binds", HOST)? {
        let source = bind.split(':').next().unwrap_or_default();
        if source.starts_with('/') {
            asked.host_paths.push(source.to_string());
        }
    }
    // `--mount type=bind,source=...`, and volumes whose driver options bind a host path.
    if let Some(mounts) = field(&host, "Mounts", HOST)? {
        let Value::Array(mounts) = mounts else {
            return Err(format!("{HOST}'s Mounts is not a list"));
        };
        for mount in mounts {
            let mount = object_fields(Some(mount));
            let kind = text(&mount, "Type", "a mount")?.unwrap_or_default();
            if kind.eq_ignore_ascii_case("bind") {
                asked
                    .host_paths
                    .push(text(&mount, "Source", "a mount")?.unwrap_or_default());
            }
            let volume = object_fields(field(&mount, "VolumeOptions", "a mount")?);
            let driver = object_fields(field(&volume, "DriverConfig", "a mount")?);
            asked
                .host_paths
                .extend(bound_device(field(&driver, "Options", "a mount")?));
        }
    }
    if let Some(devices) = field(&host, "Devices", HOST)? {
        let Value::Array(devices) = devices else {
            return Err(format!("{HOST}'s Devices is not a list"));
        };
        for device in devices {
            let device = object_fields(Some(device));
            asked
                .devices
                .push(text(&device, "PathOnHost", "a device")?.unwrap_or_default());
        }
    }
    for (name, shown) in [
        ("DeviceRequests", "a device request (--gpus)"),
        ("DeviceCgroupRules", "a device cgroup rule"),
    ] {
        if matches!(field(&host, name, HOST)?, Some(Value::Array(items)) if !items.is_empty()) {
            asked.devices.push(shown.to_string());
        }
    }
    Ok(asked)
}

/// A JSON object's fields in order, duplicates kept (a parser that keeps the last and one that
/// keeps the first would otherwise see different images).
struct Fields(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The path the engine's router matches: the URI's path, percent-decoded, with `.`, `..` and empty
/// segments resolved and any `/vX.Y` version prefix taken off.
fn route_path(uri: &str) -> Result<String, String> {
    let raw = uri.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(raw).ok_or_else(|| format!("{uri:?}: not a readable path"))?;
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    if segments.first().is_some_and(|first| is_version(first)) {
        segments.remove(0);
    }
    Ok(format!("/{}", segments.join("/")))
}

/// `v1.41`, `v1`: the API version prefix the engine's router accepts.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `%XX` escapes decoded; `None` for a malformed escape or text that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, uri: &str, body: Option<&str>) -> AuthzRequest {
        let body = body.map(|b| base64::engine::general_purpose::STANDARD.encode(b));
        AuthzRequest::parse(
            serde_json::json!({
                "User": "", "UserAuthNMethod": "", "RequestMethod": method, "RequestUri": uri,
                "RequestBody": body, "RequestHeaders": {"Content-Type": "application/json"}
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap()
    }

    fn create(image: &str) -> Action {
        Action::Create {
            image: image.to_string(),
            asked: Privileges::default(),
        }
    }

    #[test]
    fn creates_and_starts_are_found_however_the_path_is_written() {
        let body = Some(r#"{"Image":"app:1","Cmd":["true"],"HostConfig":{}}"#);
        for uri in [
            "/containers/create",
            "/v1.41/containers/create?name=web",
            "/v1.24//containers/create",
            "/v1.41/containers/%63reate",
            "/v1.41/images/../containers/create",
            "/v1/containers/./create/",
        ] {
            assert_eq!(
                request("POST", uri, body).action(),
                Ok(create("app:1")),
                "{uri}"
            );
        }
        assert_eq!(
            request("POST", "/v1.41/containers/abc123/start", None).action(),
            Ok(Action::Start {
                container: "abc123".into()
            })
        );
        assert_eq!(
            request("POST", "/v1.41/containers/web/restart?t=3", None).action(),
            Ok(Action::Start {
                container: "web".into()
            })
        );
        for (method, uri) in [
            ("GET", "/v1.41/containers/json"),
            ("POST", "/v1.41/images/create?fromImage=app"),
            ("POST", "/v1.41/containers/abc/stop"),
            ("GET", "/_ping"),
        ] {
            assert_eq!(
                request(method, uri, None).action(),
                Ok(Action::Other),
                "{uri}"
            );
        }
        assert!(request("POST", "/v1.41/containers/%zzcreate", body)
            .action()
            .is_err());
    }

    /// `docker run --privileged --pid host --cap-add ... -v ... --mount ... --device ...
    /// --security-opt ... --user 0`, as the CLI writes the create body (and as a raw client might,
    /// in other letter cases).
    #[test]
    fn the_privileges_a_create_asks_for() {
        let body = r#"{"Image":"app:1","user":"0","HostConfig":{
            "Privileged":true,"PidMode":"host","NetworkMode":"host","IpcMode":"private","utsmode":"HOST",
            "CapAdd":["SYS_ADMIN"],"Binds":["/etc:/host-etc:ro","named:/data"],
            "Mounts":[{"Type":"bind","Source":"/var/run/docker.sock","Target":"/s"},
                      {"Type":"volume","Source":"v","Target":"/v","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"none","o":"bind","device":"/root"}}}}],
            "Devices":[{"PathOnHost":"/dev/kvm","PathInContainer":"/dev/kvm","CgroupPermissions":"rwm"}],
            "DeviceRequests":[{"Count":-1,"Capabilities":[["gpu"]]}],
            "SecurityOpt":["seccomp=unconfined"]}}"#;
        let Ok(Action::Create { image, asked }) =
            request("POST", "/v1.41/containers/create", Some(body)).action()
        else {
            panic!("not a create")
        };
        assert_eq!(image, "app:1");
        assert_eq!(
            asked,
            Privileges {
                privileged: true,
                host_namespaces: vec!["pid".into(), "network".into(), "uts".into()],
                capabilities: vec!["SYS_ADMIN".into()],
                host_paths: vec!["/etc".into(), "/var/run/docker.sock".into(), "/root".into()],
                devices: vec!["/dev/kvm".into(), "a device request (--gpus)".into()],
                security_options: vec!["seccomp=unconfined".into()],
                user: Some("0".into()),
            }
        );
        let twice = r#"{"Image":"app:1","HostConfig":{"Privileged":false,"privileged":true}}"#;
        assert!(request("POST", "/containers/create", Some(twice))
            .action()
            .unwrap_err()
            .contains("Privileged more than once"));
        let exec = r#"{"Cmd":["sh"],"Privileged":true,"User":"root"}"#;
        assert_eq!(
            request("POST", "/v1.41/containers/web/exec", Some(exec)).action(),
            Ok(Action::Exec {
                container: "web".into(),
                asked: Privileges {
                    privileged: true,
                    user: Some("root".into()),
                    ..Default::default()
                }
            })
        );
        let volume = r#"{"Name":"v","Driver":"local","DriverOpts":{"type":"none","o":"bind","device":"/etc"}}"#;
        assert_eq!(
            request("POST", "/v1.41/volumes/create", Some(volume)).action(),
            Ok(Action::Volume {
                asked: Privileges {
                    host_paths: vec!["/etc".into()],
                    ..Default::default()
                }
            })
        );
        assert_eq!(
            request("POST", "/v1.41/volumes/create", Some(r#"{"Name":"plain"}"#)).action(),
            Ok(Action::Other)
        );
    }

    /// The engine's field names, and nothing less: a request the plugin cannot place is refused.
    #[test]
    fn requests_without_method_or_uri_do_not_parse() {
        assert!(AuthzRequest::parse(
            br#"{"RequestMethod":"POST","RequestURI":"/containers/create"}"#
        )
        .is_err());
        assert!(AuthzRequest::parse(br#"{"RequestUri":"/containers/create"}"#).is_err());
        assert!(AuthzRequest::parse(b"[]").is_err());
    }

    /// Go's decoder takes `image` and `IMAGE` for `Image`: so does the plugin, and a configuration
    /// naming it twice, or not at all, or a create without a body, is refused.
    #[test]
    fn the_image_is_read_as_the_engine_reads_it() {
        let uri = "/v1.41/containers/create";
        assert_eq!(
            request("POST", uri, Some(r#"{"image":"evil:1"}"#)).action(),
            Ok(create("evil:1"))
        );
        for body in [
            r#"{"Image":"good:1","IMAGE":"evil:1"}"#,
            r#"{"Image":"good:1","Image":"evil:1"}"#,
            r#"{"Cmd":["true"]}"#,
            r#"{"Image":""}"#,
            r#"{"Image":7}"#,
            "[]",
            "not json",
        ] {
            assert!(request("POST", uri, Some(body)).action().is_err(), "{body}");
        }
        let err = request("POST", uri, None).action().unwrap_err();
        assert!(err.contains("no request body"), "{err}");
    }
}
