//! The OCI layer, below everything that reads images or attestations: platforms and how a client
//! picks one ([`platform`]), the one walk of an image index ([`walk`]), and digests ([`digest`]).
//! It knows nothing of attestations or policies.

pub mod digest;
pub mod platform;
pub mod walk;
