//! The registry end of the pipeline: pushing a built image through the engine ([`push`]), attaching
//! its signed statements beside it the way cosign and OCI 1.1 verifiers look for them ([`attach`]),
//! finding them again at deploy time ([`fetch`]), and judging an image by them there ([`checker`],
//! for `serve` and `authz`), over the OCI distribution client of
//! [`crate::oci::client`] with the docker CLI's credentials ([`crate::oci::auth`]).

pub mod attach;
pub mod checker;
pub mod fetch;
pub mod push;
