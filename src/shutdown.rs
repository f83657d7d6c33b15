//! How the long-running commands (`serve`, `authz`) learn that they are asked to stop.

/// Installs the handlers for SIGTERM (as the kubelet and systemd send) and SIGINT at once, so that a signal
/// arriving right after the "listening" line is not lost, and returns a future that resolves when
/// either arrives.
pub fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        match handlers {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            // No signal handling: run until killed.
            _ => std::future::pending::<()>().await,
        }
    }
}
