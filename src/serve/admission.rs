//! The Kubernetes side of `docker vouch serve`: reading an `admission.k8s.io/v1` AdmissionReview
//! request into the images a pod would run, and writing the review's response. Pods and the
//! workload objects that make them (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
//! ReplicationController, CronJob) are understood, so a bad image is refused when the workload is
//! created, not only when its pods fail to appear. Pure functions over JSON: no I/O here.

use crate::policy::rules::runtime::Privileges;
use serde_json::{json, Value};

/// Why a request body is not an AdmissionReview this webhook can answer.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error("the request body is not JSON: {0}")]
    NotJson(String),
    #[error("not an admission.k8s.io/v1 AdmissionReview request: {0}")]
    NotAReview(String),
}

/// One container image of the object under review, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerImage {
    /// `spec.containers[0]` (relative to the pod template when the object is a workload).
    pub field: String,
    pub image: String,
}

/// What the webhook needs from a review request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub uid: String,
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`.
    pub operation: String,
    /// `Pod`, `Deployment`, …
    pub kind: String,
    /// `namespace/name` (or `generateName` for objects still unnamed), for messages and logs.
    pub object: String,
    /// Every container image, in order: init containers, containers, ephemeral containers.
    pub images: Vec<ContainerImage>,
    /// For an UPDATE, the images of the object as it was (`oldObject`).
    pub old_images: Vec<ContainerImage>,
    /// What each container asks for (its field, as in [`ContainerImage::field`]), in the same order.
    pub privileges: Vec<(String, Privileges)>,
    /// For an UPDATE, what the containers of the object as it was asked for.
    pub old_privileges: Vec<(String, Privileges)>,
}

impl Review {
    /// Whether `image` already ran in the object before this UPDATE (the same reference in the
    /// same field): scaling, a label or a finalizer change runs nothing new.
    pub fn unchanged(&self, image: &ContainerImage) -> bool {
        self.operation == "UPDATE" && self.old_images.contains(image)
    }

    /// Whether the container at `field` asked for exactly this before this UPDATE.
    pub fn privileges_unchanged(&self, field: &str, asked: &Privileges) -> bool {
        self.operation == "UPDATE"
            && self
                .old_privileges
                .iter()
                .any(|(f, old)| f == field && old == asked)
    }
}

/// Where the pod spec sits in an object of `kind` (none for kinds that run nothing).
fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    let spec = &object["spec"];
    let found = match kind {
        "Pod" => spec,
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => &spec["template"]["spec"],
        "CronJob" => &spec["jobTemplate"]["spec"]["template"]["spec"],
        _ => return None,
    };
    found.is_object().then_some(found)
}

/// Parses an AdmissionReview request body.
pub fn parse_review(body: &[u8]) -> Result<Review, AdmissionError> {
    let review: Value =
        serde_json::from_slice(body).map_err(|e| AdmissionError::NotJson(e.to_string()))?;
    if review["kind"] != "AdmissionReview" || review["apiVersion"] != "admission.k8s.io/v1" {
        return Err(AdmissionError::NotAReview(format!(
            "apiVersion {} kind {} (this webhook speaks admission.k8s.io/v1 AdmissionReview)",
            review["apiVersion"], review["kind"]
        )));
    }
    let request = &review["request"];
    let uid = request["uid"]
        .as_str()
        .filter(|uid| !uid.is_empty())
        .ok_or_else(|| AdmissionError::NotAReview("request.uid is missing".into()))?;
    let kind = request["kind"]["kind"].as_str().unwrap_or_default();
    let operation = request["operation"].as_str().unwrap_or_default();
    let object = &request["object"];
    let name = object["metadata"]["name"]
        .as_str()
        .or(object["metadata"]["generateName"].as_str())
        .or(request["name"].as_str())
        .unwrap_or("(unnamed)");
    let namespace = request["namespace"]
        .as_str()
        .or(object["metadata"]["namespace"].as_str());
    let images = images_of(kind, object)?;
    let privileges = pod_spec(kind, object)
        .map(privileges_of)
        .unwrap_or_default();
    let old_privileges = match (operation, pod_spec(kind, &request["oldObject"])) {
        ("UPDATE", Some(old)) => privileges_of(old),
        _ => Vec::new(),
    };
    let old_images = if operation == "UPDATE" {
        images_of(kind, &request["oldObject"])?
    } else {
        Vec::new()
    };
    Ok(Review {
        uid: uid.to_string(),
        operation: operation.to_string(),
        kind: kind.to_string(),
        object: match namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_string(),
        },
        images,
        old_images,
        privileges,
        old_privileges,
    })
}

/// What each container of `spec` asks for: the pod's host namespaces and the host paths of the
/// volumes it mounts, its own (or the pod's) security context. `runAsUser: 0` and `runAsNonRoot:
/// false` ask for root; an explicit `allowPrivilegeEscalation: true` turns off no-new-privileges.
fn privileges_of(spec: &Value) -> Vec<(String, Privileges)> {
    let mut host_namespaces = Vec::new();
    for (key, namespace) in [
        ("hostPID", "pid"),
        ("hostNetwork", "network"),
        ("hostIPC", "ipc"),
    ] {
        if spec[key] == true {
            host_namespaces.push(namespace.to_string());
        }
    }
    let host_paths: std::collections::BTreeMap<&str, &str> = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| Some((v["name"].as_str()?, v["hostPath"]["path"].as_str()?)))
        .collect();
    let pod = &spec["securityContext"];
    let mut all = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let containers = spec[list].as_array().into_iter().flatten();
        for (i, container) in containers.enumerate() {
            let context = &container["securityContext"];
            // A container's setting overrides the pod's.
            let either = |key: &str| {
                let own = &context[key];
                if own.is_null() {
                    &pod[key]
                } else {
                    own
                }
            };
            let mut asked = Privileges {
                privileged: context["privileged"] == true,
                host_namespaces: host_namespaces.clone(),
                capabilities: context["capabilities"]["add"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect(),
                host_paths: container["volumeMounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| host_paths.get(m["name"].as_str()?))
                    .map(|p| p.to_string())
                    .collect(),
                ..Default::default()
            };
            if context["allowPrivilegeEscalation"] == true {
                asked
                    .security_options
                    .push("no-new-privileges=false".into());
            }
            if either("seccompProfile")["type"] == "Unconfined" {
                asked.security_options.push("seccomp=unconfined".into());
            }
            if either("appArmorProfile")["type"] == "Unconfined" {
                asked.security_options.push("apparmor=unconfined".into());
            }
            // `runAsUser: 0` runs as root; `runAsNonRoot: false` turns the kubelet's guard off.
            if either("runAsUser").as_i64() == Some(0) {
                asked.user = Some("0".into());
            } else if either("runAsNonRoot") == false {
                asked.user = Some("root".into());
            }
            all.push((format!("spec.{list}[{i}]"), asked));
        }
    }
    all
}

/// The container images of an object of `kind` (none for kinds that run nothing).
fn images_of(kind: &str, object: &Value) -> Result<Vec<ContainerImage>, AdmissionError> {
    let mut images = Vec::new();
    if let Some(spec) = pod_spec(kind, object) {
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            let containers = spec[list].as_array().into_iter().flatten();
            for (i, container) in containers.enumerate() {
                let field = format!("spec.{list}[{i}]");
                match container["image"].as_str() {
                    Some(image) => images.push(ContainerImage {
                        field,
                        image: image.to_string(),
                    }),
                    None => {
                        return Err(AdmissionError::NotAReview(format!("{field} has no image")))
                    }
                }
            }
        }
    }
    Ok(images)
}

/// The AdmissionReview response: allowed, or refused with HTTP-like code 403 and `message`.
pub fn response(uid: &str, refusal: Option<&str>) -> Value {
    answer(uid, refusal, &[], false)
}

/// The AdmissionReview response, with `warnings` (which `kubectl` prints). In `audit`, what would
/// be refused is admitted: said in a warning and in the audit annotation `vouch.dev/would-refuse`.
pub fn answer(uid: &str, refusal: Option<&str>, warnings: &[String], audit: bool) -> Value {
    let mut warnings = warnings.to_vec();
    let mut response = json!({ "uid": uid, "allowed": refusal.is_none() || audit });
    match refusal {
        Some(message) if audit => {
            warnings.insert(0, format!("would be refused in enforce mode: {message}"));
            response["auditAnnotations"] = json!({ "vouch.dev/would-refuse": message });
        }
        Some(message) => {
            response["status"] = json!({ "code": 403, "reason": "Forbidden", "message": message });
        }
        None => {}
    }
    if !warnings.is_empty() {
        response["warnings"] = json!(warnings);
    }
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(kind: &str, object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": "apps", "version": "v1", "kind": kind},
                "operation": "CREATE",
                "namespace": "team",
                "object": object,
            }
        }))
        .unwrap()
    }

    fn images(review: &Review) -> Vec<(&str, &str)> {
        review
            .images
            .iter()
            .map(|c| (c.field.as_str(), c.image.as_str()))
            .collect()
    }

    #[test]
    fn pods_list_every_container_kind_in_order() {
        let parsed = parse_review(&review(
            "Pod",
            json!({"metadata": {"name": "web"}, "spec": {
                "containers": [{"name": "a", "image": "registry.example/app:1"}, {"name": "b", "image": "nginx"}],
                "initContainers": [{"name": "i", "image": "busybox@sha256:0123"}],
                "ephemeralContainers": [{"name": "e", "image": "debug:1"}]
            }}),
        ))
        .unwrap();
        assert_eq!(parsed.object, "team/web");
        assert_eq!(parsed.operation, "CREATE");
        assert_eq!(
            images(&parsed),
            vec![
                ("spec.initContainers[0]", "busybox@sha256:0123"),
                ("spec.containers[0]", "registry.example/app:1"),
                ("spec.containers[1]", "nginx"),
                ("spec.ephemeralContainers[0]", "debug:1"),
            ]
        );
    }

    #[test]
    fn what_each_container_asks_for() {
        let parsed = parse_review(&review(
            "Deployment",
            json!({"metadata": {"name": "web"}, "spec": {"template": {"spec": {
                "hostNetwork": true,
                "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "Unconfined"}},
                "volumes": [{"name": "etc", "hostPath": {"path": "/etc"}}, {"name": "tmp", "emptyDir": {}}],
                "containers": [
                    {"name": "a", "image": "app:1", "volumeMounts": [{"name": "etc", "mountPath": "/x"}, {"name": "tmp", "mountPath": "/t"}],
                     "securityContext": {"privileged": true, "allowPrivilegeEscalation": true, "capabilities": {"add": ["NET_ADMIN"]}}},
                    {"name": "b", "image": "app:1", "securityContext": {"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}}
                ]
            }}}}),
        ))
        .unwrap();
        assert_eq!(
            parsed.privileges,
            vec![
                (
                    "spec.containers[0]".to_string(),
                    Privileges {
                        privileged: true,
                        host_namespaces: vec!["network".into()],
                        capabilities: vec!["NET_ADMIN".into()],
                        host_paths: vec!["/etc".into()],
                        devices: vec![],
                        security_options: vec![
                            "no-new-privileges=false".into(),
                            "seccomp=unconfined".into()
                        ],
                        user: Some("0".into()),
                    }
                ),
                (
                    "spec.containers[1]".to_string(),
                    Privileges {
                        host_namespaces: vec!["network".into()],
                        ..Default::default()
                    }
                ),
            ]
        );
    }

    #[test]
    fn workloads_are_read_through_their_pod_template() {
        let template = json!({"spec": {"containers": [{"name": "a", "image": "app:2"}]}});
        for kind in [
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "ReplicaSet",
        ] {
            let parsed = parse_review(&review(
                kind,
                json!({"metadata": {"generateName": "w-"}, "spec": {"template": template}}),
            ))
            .unwrap();
            assert_eq!(
                images(&parsed),
                vec![("spec.containers[0]", "app:2")],
                "{kind}"
            );
            assert_eq!(parsed.object, "team/w-");
        }
        let cron = parse_review(&review(
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": template}}}}),
        ))
        .unwrap();
        assert_eq!(images(&cron), vec![("spec.containers[0]", "app:2")]);
        // A kind that runs nothing has no images.
        let config = parse_review(&review("ConfigMap", json!({"data": {}}))).unwrap();
        assert!(config.images.is_empty());
    }

    #[test]
    fn malformed_reviews_are_refused_with_the_reason() {
        assert!(matches!(
            parse_review(b"{not json"),
            Err(AdmissionError::NotJson(_))
        ));
        let v1beta1 = br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}"#;
        assert!(parse_review(v1beta1)
            .unwrap_err()
            .to_string()
            .contains("admission.k8s.io/v1beta1"));
        let no_uid =
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}"#;
        assert!(parse_review(no_uid)
            .unwrap_err()
            .to_string()
            .contains("uid"));
        let no_image = review("Pod", json!({"spec": {"containers": [{"name": "a"}]}}));
        assert!(parse_review(&no_image)
            .unwrap_err()
            .to_string()
            .contains("spec.containers[0] has no image"));
    }

    #[test]
    fn responses_carry_the_uid_and_the_refusal() {
        let allowed = response("u1", None);
        assert_eq!(allowed["response"]["allowed"], true);
        assert_eq!(allowed["response"]["uid"], "u1");
        assert!(allowed["response"].get("status").is_none());
        let refused = response("u2", Some("app:1: NOT VERIFIED"));
        assert_eq!(refused["response"]["allowed"], false);
        assert_eq!(refused["response"]["status"]["code"], 403);
        assert_eq!(
            refused["response"]["status"]["message"],
            "app:1: NOT VERIFIED"
        );
        assert_eq!(refused["kind"], "AdmissionReview");
    }
}
