//! Kubernetes' path, without a kubelet: containerd 1.6's CRI plugin drives the OCI
//! runtime through the runc v2 shim, and tests/cri/drive.py talks CRI's gRPC API to it
//! as the kubelet does (a pod on a CNI bridge, a container in it with the pod spec's
//! user, env, cwd, limits, read-only hostPath, RuntimeDefault seccomp; ExecSync,
//! UpdateContainerResources, StopContainer with its grace period, removal; nothing left).
//! The script owns its private containerd (every path under a scratch directory) and
//! removes everything it made, also when a check fails; this test checks that too.
//!
//! The runtime is `TINYCTR_OCI_RUNTIME` when set (`$(which runc)` for the reference),
//! else the tinyctr cargo built. Needs root, containerd, Debian's
//! containernetworking-plugins (/usr/lib/cni) and Python's grpcio-tools (`.ci/run`
//! installs them); without them the test skips and says why, under CI=true it fails.
#![cfg(feature = "oci")]

mod common;
#[path = "common/oci.rs"]
mod oci;

use std::process::Command;

use oci::*;

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cri/drive.py");

/// Why this host cannot run the test, if it cannot.
fn missing() -> Option<String> {
    let mut lacks = Vec::new();
    for b in ["/usr/bin/containerd", "/usr/bin/ctr", "/usr/bin/containerd-shim-runc-v2"] {
        if !std::path::Path::new(b).exists() {
            lacks.push(format!("{b} (apt-get install containerd)"));
        }
    }
    for b in ["/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"] {
        if !std::path::Path::new(b).exists() {
            lacks.push(format!("{b} (apt-get install containernetworking-plugins)"));
        }
    }
    let py = Command::new("python3").args(["-c", "import grpc, grpc_tools"]).output();
    if !py.is_ok_and(|o| o.status.success()) {
        lacks.push("python3's grpc and grpc_tools (pip install grpcio grpcio-tools)".into());
    }
    (!lacks.is_empty()).then(|| lacks.join(", "))
}

#[test]
fn a_pod_through_the_cri() {
    if !common::require_root("the CRI test") || !common::rootfs::can_run() {
        return;
    }
    if let Some(why) = missing() {
        assert!(!common::in_ci(), "CI=true, so the CRI test may not skip: no {why}");
        eprintln!("skipped: no {why}");
        return;
    }
    let dir = Scratch::new("cri");
    let out = Command::new("python3")
        .arg(DRIVER)
        .arg(runtime())
        .arg(dir.path())
        .arg(common::rootfs::BUSYBOX)
        .output()
        .expect("python3");
    let text = format!("{}{}", common::stdout(&out), common::stderr(&out));
    eprintln!("{text}");
    let log = std::fs::read_to_string(dir.join("containerd.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(30).collect();
    assert!(
        out.status.success(),
        "{}\ncontainerd's last lines:\n{}",
        text,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    let pid = std::process::id();
    let left: Vec<_> =
        hierarchies().into_iter().map(|h| h.join(format!("tinyctr-cri-{pid}"))).filter(|d| d.exists()).collect();
    assert!(left.is_empty(), "cgroups left: {left:?}");
}
