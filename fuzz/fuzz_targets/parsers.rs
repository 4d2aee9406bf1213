//! Every parser of untrusted bytes, fed the same input: none may panic, and
//! each result must be consistent with what it parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minnow::chat::framing::next_piece;
use minnow::file::{name, reply, request};
use minnow::mail::smtp::reply::{Parsed, ReplyParser, MAX_LINE};
use minnow::net::endpoint::parse_host_port;
use minnow::time::{ctime, rfc868, sntp};

fuzz_target!(|data: &[u8]| {
    // ctime: whatever parses formats back to the same second.
    if let Ok(t) = ctime::parse(data) {
        let mut out = [0u8; ctime::CTIME_LEN];
        if ctime::format(t.to_unix(), &mut out).is_ok() {
            assert!(ctime::parse(&out).is_ok());
        }
    }
    let _ = rfc868::decode(data);
    let _ = sntp::parse_reply(data, sntp::NtpTimestamp { seconds: 1, fraction: 2 });
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = parse_host_port(text, 7);
    }
    // File requests: a named file is always a valid name.
    if let Ok((request::Request::Named(n), used)) = request::parse(data) {
        assert!(name::validate(n.as_bytes()).is_ok());
        assert!(used <= data.len());
    }
    let _ = reply::as_error(data);
    // Chat framing never cuts past the bound or the input.
    for bound in [1usize, 7, 1024] {
        if let Some(n) = next_piece(data, bound, data.len() % 2 == 0) {
            assert!(n >= 1 && n <= bound.min(data.len()));
        }
    }
    // SMTP replies: fed in chunks, every line is within bounds.
    let mut parser = ReplyParser::new();
    let mut input = data;
    while !input.is_empty() {
        let (used, result) = parser.push(input);
        assert!(used >= 1 && used <= input.len());
        if let Ok(Parsed::Line(line) | Parsed::Done(_, line)) = result {
            assert!(line.text.len() < MAX_LINE);
            assert!((200..600).contains(&line.code));
        }
        input = &input[used..];
    }
});
