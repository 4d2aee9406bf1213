//! A small MIME reader, the simulated SMTP server's test oracle: it takes a
//! stored message apart (header fields, multipart bodies) and decodes what
//! core's composer encoded (base64, quoted-printable, RFC 2047 encoded
//! words, RFC 2231 parameters). Written apart from core's encoders, so a
//! round trip through both checks each against the other.

/// Decodes base64, ignoring line breaks; anything else outside the
/// alphabet, or wrong padding, is an error.
pub fn base64(text: &[u8]) -> Result<Vec<u8>, String> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let chars: Vec<u8> = text
        .iter()
        .copied()
        .filter(|c| !matches!(c, b'\r' | b'\n'))
        .collect();
    if !chars.len().is_multiple_of(4) {
        return Err(format!("base64 of {} characters", chars.len()));
    }
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    let quads = chars.len() / 4;
    for (i, quad) in chars.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != quads) {
            return Err("base64 padding in the middle".into());
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            let v = value(c).ok_or_else(|| format!("byte {c:#04x} in base64"))?;
            n = n << 6 | v;
        }
        n <<= 6 * pad as u32;
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Ok(out)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes quoted-printable (RFC 2045 6.7): `=XX`, soft breaks `=` CRLF,
/// hard breaks kept as CRLF.
pub fn quoted_printable(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'=' if text[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' => {
                let pair = text.get(i + 1..i + 3).ok_or("a cut =XX")?;
                let (Some(h), Some(l)) = (hex(pair[0]), hex(pair[1])) else {
                    return Err(format!("={} is no hex pair", String::from_utf8_lossy(pair)));
                };
                out.push(h << 4 | l);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Header fields, names in lower case, values unfolded (CRLF removed).
pub type Fields = Vec<(String, String)>;

/// Splits an entity (a message or a body part) into its unfolded header
/// fields and its body (after the empty line).
pub fn split_head(entity: &[u8]) -> Result<(Fields, &[u8]), String> {
    let end = entity
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no empty line after the header")?;
    let head = String::from_utf8_lossy(&entity[..end]);
    let mut fields: Fields = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields.last_mut().ok_or("a continuation line first")?;
            value.push_str(line);
        } else {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("header line without a colon: {line:?}"))?;
            fields.push((name.to_ascii_lowercase(), value.to_string()));
        }
    }
    Ok((fields, &entity[end + 4..]))
}

/// The value of field `name` (lower case), trimmed.
pub fn field<'f>(fields: &'f Fields, name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim())
}

/// Decodes one RFC 2047 encoded word, `=?charset?B|Q?text?=`.
fn encoded_word(word: &str) -> Option<Vec<u8>> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut it = inner.splitn(3, '?');
    let (_charset, encoding, text) = (it.next()?, it.next()?, it.next()?);
    match encoding {
        "B" | "b" => base64(text.as_bytes()).ok(),
        "Q" | "q" => {
            let text = text.replace('_', " ");
            let mut out = Vec::new();
            let b = text.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'=' {
                    out.push(hex(*b.get(i + 1)?)? << 4 | hex(*b.get(i + 2)?)?);
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// An unstructured field's text (a subject) with RFC 2047 encoded words
/// decoded; white space between two adjacent encoded words is dropped.
pub fn decode_words(value: &str) -> Result<String, String> {
    let mut out: Vec<u8> = Vec::new();
    let mut space = String::new();
    let mut last_encoded = false;
    let mut word = String::new();
    let flush = |word: &mut String, space: &mut String, out: &mut Vec<u8>, last: &mut bool| {
        if word.is_empty() {
            return;
        }
        let decoded = encoded_word(word);
        if !(decoded.is_some() && *last) {
            out.extend_from_slice(space.as_bytes());
        }
        *last = decoded.is_some();
        match decoded {
            Some(d) => out.extend_from_slice(&d),
            None => out.extend_from_slice(word.as_bytes()),
        }
        word.clear();
        space.clear();
    };
    for c in value.trim().chars() {
        if c == ' ' || c == '\t' {
            flush(&mut word, &mut space, &mut out, &mut last_encoded);
            space.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut space, &mut out, &mut last_encoded);
    String::from_utf8(out).map_err(|_| "an encoded word is not UTF-8".to_string())
}

/// Parameter `name` of a structured field value (`type/sub; a=b; ...`):
/// `name="quoted"`, `name=token`, or RFC 2231 `name*=utf-8''%XX...` and
/// its `name*0*=`, `name*1=`... continuations, decoded.
pub fn param(value: &str, name: &str) -> Option<String> {
    let mut plain = None;
    let mut pieces: Vec<(usize, bool, String)> = Vec::new();
    for p in split_params(value).into_iter().skip(1) {
        let (attr, val) = p.split_once('=')?;
        let attr = attr.trim().to_ascii_lowercase();
        let val = val.trim();
        let val = val
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .map(|v| v.replace("\\\"", "\"").replace("\\\\", "\\"))
            .unwrap_or_else(|| val.to_string());
        let Some(rest) = attr.strip_prefix(name) else {
            continue;
        };
        if rest.is_empty() {
            plain = Some(val);
        } else if rest == "*" {
            pieces.push((0, true, val));
        } else if let Some(n) = rest.strip_prefix('*') {
            let (n, ext) = match n.strip_suffix('*') {
                Some(n) => (n, true),
                None => (n, false),
            };
            pieces.push((n.parse().ok()?, ext, val));
        }
    }
    if pieces.is_empty() {
        return plain;
    }
    pieces.sort_by_key(|p| p.0);
    let mut bytes = Vec::new();
    for (i, (n, ext, val)) in pieces.iter().enumerate() {
        if *n != i {
            return None;
        }
        let mut v = val.as_str();
        if i == 0 && *ext {
            // charset'language'
            let mut it = v.splitn(3, '\'');
            let (_cs, _lang) = (it.next()?, it.next()?);
            v = it.next()?;
        }
        if *ext {
            let b = v.as_bytes();
            let mut k = 0;
            while k < b.len() {
                if b[k] == b'%' {
                    bytes.push(hex(*b.get(k + 1)?)? << 4 | hex(*b.get(k + 2)?)?);
                    k += 3;
                } else {
                    bytes.push(b[k]);
                    k += 1;
                }
            }
        } else {
            bytes.extend_from_slice(v.as_bytes());
        }
    }
    String::from_utf8(bytes).ok()
}

/// Splits a field value at the semicolons outside quoted strings.
fn split_params(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// The body parts of a multipart body with `boundary`, without preamble and
/// epilogue; the close delimiter must be there.
pub fn multipart<'b>(body: &'b [u8], boundary: &str) -> Result<Vec<&'b [u8]>, String> {
    let delim = format!("\r\n--{boundary}");
    let d = delim.as_bytes();
    // Positions of the delimiter, counting one at the very start (without
    // its CRLF).
    let mut starts: Vec<(usize, usize)> = Vec::new(); // (delimiter start, after it)
    if body.starts_with(&d[2..]) {
        starts.push((0, d.len() - 2));
    }
    let mut i = 0;
    while let Some(p) = body[i..].windows(d.len()).position(|w| w == d) {
        starts.push((i + p, i + p + d.len()));
        i += p + d.len();
    }
    let mut parts = Vec::new();
    for (k, &(_, after)) in starts.iter().enumerate() {
        let rest = &body[after..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        if !rest.starts_with(b"\r\n") {
            return Err("a boundary line with more after it".into());
        }
        let end = starts.get(k + 1).ok_or("no close delimiter")?.0;
        parts.push(&body[after + 2..end]);
    }
    Err("no close delimiter".into())
}

/// The body of an entity decoded by its Content-Transfer-Encoding.
pub fn decode_body(fields: &Fields, body: &[u8]) -> Result<Vec<u8>, String> {
    let cte = field(fields, "content-transfer-encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    match cte.as_str() {
        "base64" => base64(body),
        "quoted-printable" => quoted_printable(body),
        "7bit" | "8bit" | "binary" => Ok(body.to_vec()),
        other => Err(format!("unknown transfer encoding {other}")),
    }
}

/// `text` with every line break (CRLF, LF, CR) as CRLF.
pub fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 32);
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if text.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_and_quoted_printable() {
        assert_eq!(base64(b"aGVs\r\nbG8=").unwrap(), b"hello");
        assert_eq!(base64(b"AA==").unwrap(), [0]);
        assert!(base64(b"AA=A").is_err());
        assert!(base64(b"AAA").is_err());
        assert!(base64(b"A.AA").is_err());
        assert_eq!(
            quoted_printable(b"a=3Db=\r\nc\r\n=E6=B8=AC").unwrap(),
            "a=bc\r\n測".as_bytes()
        );
        assert!(quoted_printable(b"=G1").is_err());
    }

    #[test]
    fn reads_words_params_and_parts() {
        assert_eq!(
            decode_words("=?UTF-8?B?5ris6Kmm?= \t=?UTF-8?Q?=E9=83=B5_x?= plain  text").unwrap(),
            "測試郵 x plain  text"
        );
        let v = "attachment;\r\n filename*0*=UTF-8''%E6%B8%AC;\r\n filename*1*=%E8%A9%A6.bin";
        let v = v.replace("\r\n", "");
        assert_eq!(param(&v, "filename").unwrap(), "測試.bin");
        assert_eq!(
            param("multipart/mixed; boundary=\"=_mixed_1\"", "boundary").unwrap(),
            "=_mixed_1"
        );
        let body = b"--b\r\nA: 1\r\n\r\none\r\n--b\r\nA: 2\r\n\r\ntwo\r\n\r\n--b--\r\n";
        let parts = multipart(body, "b").unwrap();
        assert_eq!(
            parts,
            [&b"A: 1\r\n\r\none"[..], &b"A: 2\r\n\r\ntwo\r\n"[..]]
        );
        let (fields, rest) = split_head(parts[1]).unwrap();
        assert_eq!(field(&fields, "a"), Some("2"));
        assert_eq!(rest, b"two\r\n");
        assert!(multipart(b"--b\r\n\r\nx\r\n--b\r\n", "b").is_err());
    }
}
