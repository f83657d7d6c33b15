//! Building through the Engine API (`POST /build`, bollard) when buildx is not installed: the
//! context is streamed as a tar written by [`super::context`] on a separate thread (never held in
//! memory whole), the engine's output is shown as it arrives, and the image ID comes from the
//! stream's final `aux.ID`. The legacy builder is used: BuildKit over the Engine API needs a gRPC
//! session (bollard's `buildkit` feature, a large protobuf build), and machines with BuildKit
//! normally have buildx, which [`super::buildx`] drives.

use super::{BuildError, BuildOptions};
use crate::engine::{engine_message, Connection};
use bytes::Bytes;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::io::Write;

/// A `Write` that sends what it is given to the request body stream, in 64 KB chunks.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the engine closed the build request"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= 64 * 1024 {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Builds with the engine; returns the image ID. `output` receives the build's
/// output lines as they come.
pub fn build(
    engine: &Connection,
    options: &BuildOptions,
    output: &mut dyn FnMut(&str),
) -> Result<String, BuildError> {
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let context = options.context.clone();
    let dockerfile = options.dockerfile_in_context()?;
    let dockerfile_for_tar = dockerfile.clone();
    let writer = std::thread::spawn(move || {
        let mut out = ChannelWriter {
            sender: sender.clone(),
            buffer: Vec::new(),
        };
        let written = super::context::write_context(&context, &dockerfile_for_tar, &mut out)
            .and_then(|count| {
                out.flush().map_err(|e| super::context::ContextError::Io {
                    path: context.display().to_string(),
                    detail: e.to_string(),
                })?;
                Ok(count)
            });
        if let Err(e) = &written {
            // Make the request fail rather than send a truncated context.
            let _ = sender.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
        written
    });

    let query = bollard::query_parameters::BuildImageOptions {
        dockerfile,
        t: options.tags.first().cloned(),
        q: false,
        nocache: options.no_cache,
        pull: options.pull.then(|| "1".to_string()),
        rm: true,
        buildargs: Some(
            options
                .build_args
                .iter()
                .cloned()
                .collect::<HashMap<_, _>>(),
        ),
        labels: Some(options.labels.iter().cloned().collect::<HashMap<_, _>>()),
        platform: options.platform.clone().unwrap_or_default(),
        target: options.target.clone().unwrap_or_default(),
        version: bollard::query_parameters::BuilderVersion::BuilderV1,
        ..Default::default()
    };
    let result = engine.block_on(async {
        let docker = engine.docker();
        let body = bollard::body_try_stream(tokio_stream_of(receiver));
        let mut stream = docker.build_image(query, None, Some(body));
        let mut image_id = None;
        let mut line = String::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| BuildError::Failed(engine_message(e)))?;
            if let Some(message) = info.error_detail.and_then(|d| d.message) {
                return Err(BuildError::Failed(message));
            }
            if let Some(text) = info.stream {
                line.push_str(&text);
                while let Some(end) = line.find('\n') {
                    output(line[..end].trim_end_matches('\r'));
                    line.drain(..=end);
                }
            }
            if let Some(id) = info.aux.and_then(|aux| aux.id) {
                image_id = Some(id);
            }
        }
        if !line.is_empty() {
            output(&line);
        }
        let id = image_id.ok_or_else(|| {
            BuildError::Failed("the engine's build output named no image ID".into())
        })?;
        for tag in options.tags.iter().skip(1) {
            let (repo, tag) = split_tag(tag);
            docker
                .tag_image(
                    &id,
                    Some(bollard::query_parameters::TagImageOptions {
                        repo: Some(repo.to_string()),
                        tag: Some(tag.to_string()),
                    }),
                )
                .await
                .map_err(|e| {
                    BuildError::Failed(format!("tagging {repo}:{tag}: {}", engine_message(e)))
                })?;
        }
        Ok(id)
    });
    match writer.join() {
        Ok(Err(e)) => return Err(BuildError::Context(e)),
        Err(_) => return Err(BuildError::Io("the context writer stopped".into())),
        Ok(Ok(_)) => {}
    }
    result
}

/// `name[:tag]` → (name, tag), `latest` by default; a `:` in a registry port is not a tag.
pub fn split_tag(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "latest"),
    }
}

fn tokio_stream_of(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}
