//! The OCI layer, below everything that reads images or attestations: platforms and how a client
//! picks one ([`platform`]), and the one walk of an image index ([`walk`]). It knows nothing of
//! attestations or policies.

pub mod platform;
pub mod walk;
