//! The OCI runtime interface: the runc command line that containerd's shim drives.

pub mod store;
