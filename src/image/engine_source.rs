//! Images from the Docker engine (`docker:NAME` or a bare name/ID): `inspect_image` for the ID and
//! registry digests, then `export_image` streamed straight into the archive scanner through a
//! bounded channel, so the image is never held whole in memory or written to disk.

use super::archive::{scan_archive, ArchiveScan};
use super::ImageError;
use crate::engine::Connection;
use crate::layers::{Limits, Wanted};
use bytes::Bytes;
use futures_util::StreamExt;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver};

/// What the engine says about an image before its export.
#[derive(Debug, Clone)]
pub struct EngineImage {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
}

/// Inspects `name` on the engine and scans its export.
pub fn read_from_engine(
    engine: &Connection,
    name: &str,
    wanted: &Wanted,
    limits: &Limits,
) -> Result<(EngineImage, ArchiveScan), ImageError> {
    let input = format!("docker:{name}");
    let inspect = engine.block_on(inspect(engine, name, &input))?;
    let image = EngineImage {
        id: inspect.id.clone().unwrap_or_default(),
        repo_tags: inspect.repo_tags.clone().unwrap_or_default(),
        repo_digests: inspect.repo_digests.clone().unwrap_or_default(),
    };

    // Export by ID, not by name: the name may be retagged while we read. The export streams on the
    // connection's worker thread while this one scans.
    let (sender, receiver) = sync_channel::<io::Result<Bytes>>(32);
    let export_id = image.id.clone();
    let exporter = engine.docker().clone();
    let export = engine.runtime().spawn(async move {
        let mut stream = exporter.export_image(&export_id);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| io::Error::other(format!("engine export failed: {e}")));
            let failed = chunk.is_err();
            if sender.send(chunk).is_err() || failed {
                break;
            }
        }
    });
    let scan = scan_archive(ChannelReader::new(receiver), &input, wanted, limits);
    // A scan that stopped early (an error, a limit) leaves the export to finish on its own: the
    // next send fails and the task ends; abort it so it holds nothing meanwhile.
    export.abort();
    Ok((image, scan?))
}

/// `inspect_image`, with a missing image told apart from an unreachable engine.
async fn inspect(
    engine: &Connection,
    name: &str,
    input: &str,
) -> Result<bollard::models::ImageInspect, ImageError> {
    engine
        .docker()
        .inspect_image(name)
        .await
        .map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } => ImageError::NotFound {
                input: input.to_string(),
                detail: format!(
                    "no such image in the Docker engine at {}",
                    engine.endpoint().host
                ),
            },
            other => ImageError::Engine(engine.unreachable(other.to_string())),
        })
}

/// An engine image's identity and layer diffIDs, from `inspect_image` alone (no export).
#[derive(Debug, Clone)]
pub struct InspectedImage {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub diff_ids: Vec<String>,
    /// The user its config declares (`USER`), when it does.
    pub user: Option<String>,
}

impl InspectedImage {
    /// The manifest digests the image was pulled by (from its repository digests), then its ID:
    /// what an attestation's subject may name for it.
    pub fn subject_digests(&self) -> Vec<String> {
        self.repo_digests
            .iter()
            .filter_map(|d| d.rsplit_once('@').map(|(_, d)| d.to_string()))
            .chain(std::iter::once(self.id.clone()))
            .collect()
    }
}

impl From<bollard::models::ImageInspect> for InspectedImage {
    fn from(inspect: bollard::models::ImageInspect) -> Self {
        InspectedImage {
            id: inspect.id.unwrap_or_default(),
            repo_tags: inspect.repo_tags.unwrap_or_default(),
            repo_digests: inspect.repo_digests.unwrap_or_default(),
            diff_ids: inspect.root_fs.and_then(|r| r.layers).unwrap_or_default(),
            user: inspect
                .config
                .and_then(|c| c.user)
                .filter(|u| !u.is_empty()),
        }
    }
}

/// Every tagged image of the engine, inspected (for finding an image's base by its layers).
pub fn tagged_images(engine: &Connection) -> Result<Vec<InspectedImage>, ImageError> {
    let input = "docker:";
    engine.block_on(async {
        let summaries = engine
            .docker()
            .list_images(Some(
                bollard::query_parameters::ListImagesOptionsBuilder::new()
                    .all(false)
                    .build(),
            ))
            .await
            .map_err(|e| ImageError::Engine(engine.unreachable(e.to_string())))?;
        let mut images = Vec::new();
        for summary in summaries {
            let tagged = summary.repo_tags.iter().any(|t| t != "<none>:<none>");
            if tagged {
                images.push(inspect(engine, &summary.id, input).await?.into());
            }
        }
        Ok(images)
    })
}

/// Inspects `name` on the engine without reading its layers.
pub fn inspect_only(engine: &Connection, name: &str) -> Result<InspectedImage, ImageError> {
    let input = format!("docker:{name}");
    Ok(engine.block_on(inspect(engine, name, &input))?.into())
}

/// The ID of the image the container `name` (an ID, a prefix of one, or a name) was created from;
/// `None` when the engine has no such container.
pub fn container_image(engine: &Connection, name: &str) -> Result<Option<String>, ImageError> {
    let inspected = engine.block_on(engine.docker().inspect_container(name, None));
    match inspected {
        Ok(container) => Ok(container.image),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(other) => Err(ImageError::Engine(engine.unreachable(other.to_string()))),
    }
}

/// A container running on the engine.
#[derive(Debug, Clone)]
pub struct RunningContainer {
    pub id: String,
    pub name: String,
    /// The image as the container was created with it (a tag, an ID).
    pub image: String,
    /// The ID of the image it runs.
    pub image_id: String,
}

/// The containers running on the engine now, oldest first.
pub fn running_containers(engine: &Connection) -> Result<Vec<RunningContainer>, ImageError> {
    let listed = engine
        .block_on(
            engine.docker().list_containers(Some(
                bollard::query_parameters::ListContainersOptionsBuilder::new()
                    .all(false)
                    .build(),
            )),
        )
        .map_err(|e| ImageError::Engine(engine.unreachable(e.to_string())))?;
    let mut running: Vec<(i64, RunningContainer)> = listed
        .into_iter()
        .map(|c| {
            let name = c
                .names
                .as_ref()
                .and_then(|n| n.first())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default();
            (
                c.created.unwrap_or_default(),
                RunningContainer {
                    id: c.id.unwrap_or_default(),
                    name,
                    image: c.image.unwrap_or_default(),
                    image_id: c.image_id.unwrap_or_default(),
                },
            )
        })
        .collect();
    running.sort_by_key(|(created, c)| (*created, c.id.clone()));
    Ok(running.into_iter().map(|(_, c)| c).collect())
}

/// A blocking `Read` over chunks sent by the export task.
struct ChannelReader {
    receiver: Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    fn new(receiver: Receiver<io::Result<Bytes>>) -> Self {
        ChannelReader {
            receiver,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.receiver.recv() {
                Ok(Ok(chunk)) => self.current = chunk,
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0), // the export finished
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
