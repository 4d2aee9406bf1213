//! radvd in a test namespace: router advertisements on `tap0` for IPv6
//! stateless autoconfiguration (`minnow serve --slaac`, the boards'
//! `MINNOW_IPV6=slaac`).

use std::time::Duration;

use crate::{Netns, Proc, TempDir};

/// The prefix radvd advertises; the Linux side holds `::1` of it.
pub const PREFIX: &str = "2001:db8:5::";

/// Gives `tap0` an address in [`PREFIX`], turns forwarding on in the
/// namespace (radvd advertises only from a router) and starts radvd with
/// its configuration and pid file in `dir`, advertising every 3 to 4 s.
#[track_caller]
pub fn start(ns: &Netns, dir: &TempDir) -> Proc {
    ns.ip(&[
        "addr",
        "add",
        &format!("{PREFIX}1/64"),
        "dev",
        Netns::TAP,
        "nodad",
    ]);
    ns.run(
        ns.command("sh")
            .args(["-c", "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"]),
        Duration::from_secs(10),
    )
    .assert_success("IPv6 forwarding on inside the namespace");
    let conf = dir.path().join("radvd.conf");
    std::fs::write(
        &conf,
        format!(
            "interface {} {{\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  \
             MaxRtrAdvInterval 4;\n  prefix {PREFIX}/64 {{ AdvOnLink on; AdvAutonomous on; }};\n}};\n",
            Netns::TAP
        ),
    )
    .unwrap_or_else(|e| panic!("minnow-tests: writing {}: {e}", conf.display()));
    let mut cmd = ns.command("radvd");
    cmd.args(["--nodaemon", "--logmethod", "stderr", "--debug", "1"])
        .arg("--config")
        .arg(&conf)
        .arg("--pidfile")
        .arg(dir.path().join("radvd.pid"));
    ns.spawn(cmd)
}

/// The address in a `slaac address ADDR/64 router ...` log line.
pub fn autoconfigured(log: &str) -> Option<String> {
    let rest = log.split("slaac address ").nth(1)?;
    let cidr = rest.split_whitespace().next()?;
    Some(cidr.split('/').next()?.to_string())
}
