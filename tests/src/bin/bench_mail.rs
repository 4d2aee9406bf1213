//! The mail benchmark (issue 5): one message with a big attachment sent to
//! the same SMTP sink, by `minnow mail` over the TAP device and by Python's
//! `smtplib` + `email` on the Linux kernel stack, side by side in one run:
//! wall time and peak memory of each, at two attachment sizes (default
//! 1 MiB and 100 MiB), to show that Minnow's peak memory stays flat.
//!
//! ```sh
//! sudo MINNOW_TEST_RELEASE=1 cargo run --release -p minnow-tests --bin bench-mail -- \
//!     [--sizes 1M,100M] [--repeat R]
//! ```
//!
//! Each send is repeated `--repeat` times (default 3; the table shows medians).
//!
//! The sink: aiosmtpd's `Controller` (as `peers/smtp_sink.py`, but
//! with a 1 GiB `data_size_limit`: the notes' sink stops at 64 MiB and a
//! 100 MiB attachment is about 137 MB of base64) on 192.0.2.1 in the
//! namespace, writing each message to a file. Both clients send to it:
//! Minnow from 192.0.2.2 through the TAP device; the Python script from the
//! namespace itself (the kernel's local path to 192.0.2.1). After each send
//! (outside the timing) the stored message is parsed with Python's `email`
//! package and its attachment's SHA-256 compared with the file's.
//!
//! Wall time runs from spawn to exit (start-up, reading and encoding the
//! attachment, the SMTP session, the sink's 250 after DATA). Peak memory:
//! `VmHWM` of the client process read from `/proc/PID/status` every few
//! milliseconds while it runs (the high-water mark only grows, so the last
//! reading is the peak); the Python script's own `ru_maxrss` is shown too.
//!
//! Network safety: all traffic stays inside the namespace created here,
//! addresses come from 192.0.2.0/24 only, every run is bounded in time, and
//! processes are killed by PID (the harness does so on drop).

use std::path::{Path, PathBuf};
use std::time::Duration;

use minnow_tests::bench::{
    self, Measured, cpu_secs, load_note, parse_size, run_measured, runq_wait_secs, size_name, stop,
};
use minnow_tests::{Netns, Proc, TempDir, minnow_bin, python3, random_bytes, sha256_file};

/// The sink's port (on the namespace's side of the TAP device).
const PORT: u16 = 2525;
/// The longest one send may take.
const LIMIT: Duration = Duration::from_secs(300);
const ATTACHMENT: &str = "big.bin";

/// The sink: aiosmtpd as the notes' smtp_sink.py, with room for big messages.
const SINK_PY: &str = r#"
import asyncio, os, signal, sys
from aiosmtpd.controller import Controller
host, port, maildir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Store:
    def __init__(self):
        self.n = 0
    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        data = envelope.original_content or envelope.content
        with open(os.path.join(maildir, "%04d.eml" % self.n), "wb") as f:
            f.write(data)
        print("stored %d %d" % (self.n, len(data)), flush=True)
        return "250 2.0.0 stored"
c = Controller(Store(), hostname=host, port=port, data_size_limit=1 << 30)
c.start()
print("ready", flush=True)
stop = asyncio.Event()
loop = asyncio.new_event_loop()
for sig in (signal.SIGTERM, signal.SIGINT):
    loop.add_signal_handler(sig, stop.set)
loop.run_until_complete(stop.wait())
c.stop()
"#;

/// The Python reference: the usual smtplib + email.message way.
const CLIENT_PY: &str = r#"
import os, resource, smtplib, sys, time
from email.message import EmailMessage
host, port, text, attach = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t0 = time.monotonic()
msg = EmailMessage()
msg["From"] = "a@test"
msg["To"] = "b@test"
msg["Subject"] = "big"
with open(text) as f:
    msg.set_content(f.read())
with open(attach, "rb") as f:
    data = f.read()
msg.add_attachment(data, maintype="application", subtype="octet-stream",
                   filename=os.path.basename(attach))
with smtplib.SMTP(host, port) as s:
    s.send_message(msg)
print("sent in %.3f s, ru_maxrss %d KiB" % (time.monotonic() - t0,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"#;

/// Parses a stored message; prints the SHA-256 of its attachment (and of its text).
const CHECK_PY: &str = r#"
import email, email.policy, hashlib, sys
with open(sys.argv[1], "rb") as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
for part in msg.walk():
    if part.is_multipart():
        continue
    name = part.get_filename()
    data = part.get_payload(decode=True) or b""
    print("%s %s %d" % (name or "-", hashlib.sha256(data).hexdigest(), len(data)))
"#;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    /// `minnow mail` over the TAP device.
    Minnow,
    /// smtplib + email on the kernel stack.
    Python,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Minnow => "minnow mail",
            Client::Python => "Python smtplib + email",
        }
    }

    fn link(self) -> &'static str {
        match self {
            Client::Minnow => "TAP",
            Client::Python => "kernel",
        }
    }
}

struct Opts {
    sizes: Vec<u64>,
    repeat: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench-mail [--sizes N[K|M|G],...] [--repeat R]\n\
         Run as root: it creates a network namespace and a TAP device; needs python3 with aiosmtpd."
    );
    std::process::exit(2)
}

fn main() {
    let mut o = Opts {
        sizes: vec![1 << 20, 100 << 20],
        repeat: 3,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--sizes" => {
                o.sizes = val()
                    .split(',')
                    .map(|s| parse_size(s).unwrap_or_else(|| usage()))
                    .collect()
            }
            "--repeat" => o.repeat = val().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if o.sizes.is_empty()
        || o.sizes.iter().any(|&s| s == 0 || s > 512 << 20)
        || !(1..=10).contains(&o.repeat)
    {
        usage();
    }
    if std::env::var_os("MINNOW_TEST_RELEASE").is_none() {
        // SAFETY: still single-threaded: no other thread reads the environment.
        unsafe { std::env::set_var("MINNOW_TEST_RELEASE", "1") };
    }
    bench(&o);
}

/// One send.
struct Sample {
    client: Client,
    size: u64,
    run: Result<Measured, String>,
    /// Bytes the sink stored (the message as sent, after dot-unstuffing).
    stored: Option<u64>,
    /// The sink's CPU seconds during the send.
    sink_cpu: Option<f64>,
    /// Seconds the sink was runnable but waited for a CPU during the send.
    sink_wait: Option<f64>,
    /// The Python script's own report.
    note: Option<String>,
}

impl Sample {
    fn secs(&self) -> Option<f64> {
        self.run.as_ref().ok().map(|m| m.wall.as_secs_f64())
    }

    fn hwm(&self) -> Option<u64> {
        self.run.as_ref().ok().and_then(|m| m.hwm_kib)
    }
}

fn start_sink(ns: &Netns, maildir: &Path) -> Proc {
    let mut cmd = ns.command(python3());
    cmd.args(["-c", SINK_PY, Netns::HOST_V4, &PORT.to_string()])
        .arg(maildir)
        .env("PYTHONUNBUFFERED", "1");
    let p = ns.spawn(cmd);
    assert!(
        p.wait_for_stdout("ready", Duration::from_secs(20)),
        "bench-mail: the sink did not start (is aiosmtpd installed? pip install aiosmtpd)\n{}",
        p.dump()
    );
    p
}

fn command(ns: &Netns, client: Client, text: &Path, attach: &Path) -> std::process::Command {
    let server = format!("{}:{PORT}", Netns::HOST_V4);
    match client {
        Client::Minnow => {
            let mut cmd = ns.command(minnow_bin());
            cmd.args(["mail", "--tap", Netns::TAP]);
            cmd.args(["--ip", Netns::MINNOW_V4_CIDR, "--ip", Netns::MINNOW_V6_CIDR]);
            cmd.args(["--server", &server, "--from", "a@test", "--to", "b@test"]);
            cmd.args(["--subject", "big", "--text"]).arg(text);
            cmd.arg("--attach").arg(attach);
            cmd
        }
        Client::Python => {
            let mut cmd = ns.command(python3());
            cmd.args(["-c", CLIENT_PY, Netns::HOST_V4, &PORT.to_string()]);
            cmd.arg(text).arg(attach);
            cmd
        }
    }
}

/// The attachment's SHA-256 as the stored message carries it, from `CHECK_PY`.
fn stored_attachment(ns: &Netns, eml: &Path) -> Result<(String, u64), String> {
    let mut cmd = ns.command(python3());
    cmd.args(["-c", CHECK_PY]).arg(eml);
    let out = ns.run(cmd, Duration::from_secs(120));
    if !out.success() {
        return Err(format!("parsing {}: {}", eml.display(), out.dump()));
    }
    out.stdout
        .lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            (f.next()? == ATTACHMENT).then_some(())?;
            Some((f.next()?.to_string(), f.next()?.parse().ok()?))
        })
        .ok_or_else(|| {
            format!(
                "no attachment {ATTACHMENT} in {}: {}",
                eml.display(),
                out.stdout
            )
        })
}

/// The sink and where it stores.
struct Setup<'a> {
    ns: &'a Netns,
    sink: &'a Proc,
    maildir: &'a Path,
    text: &'a Path,
    /// Messages stored so far.
    stored: usize,
}

/// One attachment file.
struct Attach<'a> {
    path: &'a Path,
    size: u64,
    sha: &'a str,
}

fn send(setup: &mut Setup<'_>, client: Client, att: &Attach<'_>) -> Sample {
    let (ns, sink) = (setup.ns, setup.sink);
    let size = att.size;
    let cpu0 = cpu_secs(sink.pid());
    let wait0 = runq_wait_secs(sink.pid());
    let m = run_measured(command(ns, client, setup.text, att.path), b"", LIMIT);
    let sink_cpu = cpu0.zip(cpu_secs(sink.pid())).map(|(a, b)| b - a);
    let sink_wait = wait0.zip(runq_wait_secs(sink.pid())).map(|(a, b)| b - a);
    let mut sample = Sample {
        client,
        size,
        run: Err(String::new()),
        stored: None,
        sink_cpu,
        sink_wait,
        note: None,
    };
    if !m.ok() {
        sample.run = Err(m.dump(client.name()));
        return sample;
    }
    setup.stored += 1;
    let eml: PathBuf = setup.maildir.join(format!("{:04}.eml", setup.stored));
    let stored = std::fs::metadata(&eml).map(|md| md.len()).ok();
    sample.stored = stored;
    if client == Client::Python {
        sample.note = m.stdout.lines().last().map(str::to_string);
    }
    sample.run = match stored_attachment(ns, &eml) {
        Ok((sha, len)) if sha == att.sha && len == size => Ok(m),
        Ok((sha, len)) => Err(format!(
            "the stored attachment differs: {len} bytes, sha256 {sha}; want {size}, {}",
            att.sha
        )),
        Err(e) => Err(e),
    };
    // Stored messages are big: keep the disk tidy as we go.
    let _ = std::fs::remove_file(&eml);
    sample
}

fn bench(o: &Opts) {
    minnow_tests::require_root();
    let bin = minnow_bin();
    eprintln!("bench-mail: minnow binary {}", bin.display());
    let load_before = load_note();
    let ns = Netns::new();
    let work = TempDir::new("bench-mail");
    let maildir = work.join("maildir");
    std::fs::create_dir_all(&maildir).unwrap();
    let text = work.join("body.txt");
    std::fs::write(&text, "Hello,\n\nthe file is attached.\n").unwrap();
    let sink = start_sink(&ns, &maildir);
    let mut setup = Setup {
        ns: &ns,
        sink: &sink,
        maildir: &maildir,
        text: &text,
        stored: 0,
    };
    let mut samples = Vec::new();
    for round in 1..=o.repeat {
        for &size in &o.sizes {
            let dir = TempDir::new("bench-mail-att");
            let attach = dir.join(ATTACHMENT);
            write_attachment(&attach, size);
            let sha = sha256_file(&attach);
            let att = Attach {
                path: &attach,
                size,
                sha: &sha,
            };
            for client in [Client::Minnow, Client::Python] {
                eprintln!(
                    "bench-mail: round {round}/{}: {} with a {} attachment",
                    o.repeat,
                    client.name(),
                    size_name(size)
                );
                let s = send(&mut setup, client, &att);
                match &s.run {
                    Ok(m) => eprintln!(
                        "bench-mail:   {:.2} s, peak {} KiB",
                        m.wall.as_secs_f64(),
                        m.hwm_kib.unwrap_or(0)
                    ),
                    Err(e) => eprintln!("bench-mail:   FAILED: {e}"),
                }
                samples.push(s);
            }
        }
    }
    let load_after = load_note();
    let sink_out = stop(sink);
    report(o, &samples, &load_before, &load_after);
    if !sink_out.stderr().trim().is_empty() && samples.iter().any(|s| s.run.is_err()) {
        println!("--- sink stderr\n{}", sink_out.stderr().trim_end());
    }
}

/// `size` pseudo-random bytes, written 1 MiB at a time.
fn write_attachment(path: &Path, size: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut done = 0u64;
    let mut seed = 0x6d61_696c;
    while done < size {
        let n = (size - done).min(1 << 20) as usize;
        f.write_all(&random_bytes(n, seed)).unwrap();
        seed += 1;
        done += n as u64;
    }
    f.flush().unwrap();
}

// ---------------------------------------------------------------- report

/// Median over the rounds of `f` for one client and size (`None` if any round failed).
fn med(
    samples: &[Sample],
    c: Client,
    size: u64,
    f: impl Fn(&Sample) -> Option<f64>,
) -> Option<f64> {
    let mut v = Vec::new();
    for s in samples.iter().filter(|s| s.client == c && s.size == size) {
        v.push(f(s)?);
    }
    bench::median(v)
}

fn report(o: &Opts, samples: &[Sample], load_before: &str, load_after: &str) {
    println!();
    println!(
        "Mail benchmark: one message (a short text + one attachment) to the same aiosmtpd sink on 192.0.2.1{}.",
        if o.repeat > 1 {
            format!("; {} rounds, medians", o.repeat)
        } else {
            String::new()
        }
    );
    println!(
        "Wall: spawn to exit. Peak: VmHWM of the client process (sampled every ~2 ms). Each stored attachment checked (SHA-256)."
    );
    println!(
        "MB/s: the stored message's bytes (base64 and all) / wall time. CPU s: the client's CPU time (wait4 rusage);"
    );
    println!(
        "runq s: time it was runnable but waited for a CPU (other work on the machine). Sink CPU% / runq%: the same for"
    );
    println!("the sink during the send, over the wall time (100 = one core).");
    println!("Machine: {load_before} before, {load_after} after.");
    println!(
        "{:<24} {:<7} {:>10} {:>8} {:>10} {:>6} {:>8} {:>7} {:>7} {:>9} {:>9}",
        "client",
        "link",
        "attachment",
        "wall s",
        "peak KiB",
        "MB/s",
        "msg MB",
        "CPU s",
        "runq s",
        "sink CPU%",
        "sink runq%"
    );
    println!(
        "{}",
        "-".repeat(24 + 7 + 10 + 8 + 10 + 6 + 8 + 7 + 7 + 9 + 10 + 10)
    );
    for &size in &o.sizes {
        for c in [Client::Minnow, Client::Python] {
            let wall = med(samples, c, size, Sample::secs);
            let hwm = med(samples, c, size, |s| s.hwm().map(|h| h as f64));
            let stored = med(samples, c, size, |s| s.stored.map(|b| b as f64));
            let cpu = med(samples, c, size, |s| s.run.as_ref().ok().map(|m| m.cpu));
            let runq = med(samples, c, size, |s| s.run.as_ref().ok()?.runq_wait);
            let sink = med(samples, c, size, |s| Some(s.sink_cpu? / s.secs()?));
            let sink_wait = med(samples, c, size, |s| Some(s.sink_wait? / s.secs()?));
            let f = |v: Option<f64>, d: usize| v.map_or("FAILED".into(), |v| format!("{v:.d$}"));
            println!(
                "{:<24} {:<7} {:>10} {:>8} {:>10} {:>6} {:>8} {:>7} {:>7} {:>9} {:>10}",
                c.name(),
                c.link(),
                size_name(size),
                f(wall, 2),
                f(hwm, 0),
                f(stored.zip(wall).map(|(b, w)| b / w / 1e6), 1),
                f(stored.map(|b| b / 1e6), 1),
                f(cpu, 2),
                f(runq, 2),
                f(sink.map(|v| v * 100.0), 0),
                f(sink_wait.map(|v| v * 100.0), 0)
            );
        }
    }
    for s in samples {
        if let Err(e) = &s.run {
            println!("  {} {}: FAILED: {e}", s.client.name(), size_name(s.size));
        }
    }
    for s in samples.iter().filter(|s| s.note.is_some()) {
        println!(
            "  {} {}: the script's own report: {}",
            s.client.name(),
            size_name(s.size),
            s.note.as_deref().unwrap_or("")
        );
    }

    let (Some(&small), Some(&big)) = (o.sizes.iter().min(), o.sizes.iter().max()) else {
        return;
    };
    println!();
    println!("Ratios (same run):");
    let hwm = |c, size| med(samples, c, size, |s| s.hwm().map(|h| h as f64));
    let wall = |c, size| med(samples, c, size, Sample::secs);
    for c in [Client::Minnow, Client::Python] {
        if small != big
            && let (Some(a), Some(b)) = (hwm(c, small), hwm(c, big))
        {
            let flat = if c == Client::Minnow {
                // Flat: the big attachment adds less than a 64 KiB socket buffer's worth of pages
                // (or 5 %), whatever its size.
                let ok = b - a <= 256.0_f64.max(a * 0.05);
                format!(
                    "  target: flat: {} ({:+.0} KiB)",
                    if ok { "met" } else { "MISSED" },
                    b - a
                )
            } else {
                format!("  ({:+.0} KiB)", b - a)
            };
            println!(
                "{:<58} {:>7.2}{flat}",
                format!(
                    "{} peak memory, {} / {}",
                    c.name(),
                    size_name(big),
                    size_name(small)
                ),
                b / a
            );
        }
    }
    for size in [small, big] {
        if let (Some(m), Some(p)) = (wall(Client::Minnow, size), wall(Client::Python, size)) {
            println!(
                "{:<58} {:>7.2}",
                format!(
                    "minnow mail / Python, wall time, {} (lower is better)",
                    size_name(size)
                ),
                m / p
            );
        }
        if let (Some(m), Some(p)) = (hwm(Client::Minnow, size), hwm(Client::Python, size)) {
            println!(
                "{:<58} {:>7.3}",
                format!("minnow mail / Python, peak memory, {}", size_name(size)),
                m / p
            );
        }
    }
}
