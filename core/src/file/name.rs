//! File names a request may ask for: plain relative names that cannot leave
//! the served folder, checked before any storage sees them.

/// Longest accepted name, bytes.
pub const MAX_NAME: usize = 200;

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadName {
    /// No name.
    Empty,
    /// Longer than [`MAX_NAME`] bytes.
    TooLong,
    /// Not UTF-8.
    NotUtf8,
    /// Contains NUL or another control character.
    ControlChar,
    /// Starts with `/` (absolute) or contains `\`.
    Absolute,
    /// Has a `..` (or `.`) component, or an empty one (`a//b`).
    Traversal,
}

impl core::fmt::Display for BadName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            BadName::Empty => "empty name",
            BadName::TooLong => "name too long",
            BadName::NotUtf8 => "name is not UTF-8",
            BadName::ControlChar => "name has control characters",
            BadName::Absolute => "absolute names are refused",
            BadName::Traversal => "names with '..' or empty parts are refused",
        })
    }
}

/// Checks a requested name: relative, `/`-separated, no `.`/`..`/empty
/// components, no control characters, UTF-8, at most [`MAX_NAME`] bytes.
/// Percent signs are plain characters: `%2e%2e` is a name, not `..`.
pub fn validate(name: &[u8]) -> Result<&str, BadName> {
    if name.is_empty() {
        return Err(BadName::Empty);
    }
    if name.len() > MAX_NAME {
        return Err(BadName::TooLong);
    }
    let text = core::str::from_utf8(name).map_err(|_| BadName::NotUtf8)?;
    if text.chars().any(char::is_control) {
        return Err(BadName::ControlChar);
    }
    if text.starts_with('/') || text.contains('\\') {
        return Err(BadName::Absolute);
    }
    if text.split('/').any(|part| matches!(part, "" | "." | "..")) {
        return Err(BadName::Traversal);
    }
    Ok(text)
}

/// Whether a checked name has a hidden part (one starting with `.`, such as
/// `.htpasswd` or `.git/config`): a store refuses those unless told to
/// serve them.
pub fn is_hidden(name: &str) -> bool {
    name.split('/').any(|part| part.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_names() {
        assert_eq!(validate(b"notes.txt"), Ok("notes.txt"));
        assert_eq!(validate(b"dir/sub/file.bin"), Ok("dir/sub/file.bin"));
        assert_eq!(validate("測試.txt".as_bytes()), Ok("測試.txt"));
        assert_eq!(validate(b"%2e%2e"), Ok("%2e%2e"));
        assert_eq!(validate(b"..hidden"), Ok("..hidden"));
    }

    #[test]
    fn hidden_parts_are_told() {
        assert!(is_hidden(".htpasswd"));
        assert!(is_hidden(".git/config"));
        assert!(is_hidden("a/.b/c"));
        assert!(is_hidden("..hidden"));
        assert!(!is_hidden("a.b/c.txt"));
    }

    #[test]
    fn refuses_every_escape() {
        assert_eq!(validate(b""), Err(BadName::Empty));
        assert_eq!(validate(b"../etc/passwd"), Err(BadName::Traversal));
        assert_eq!(validate(b"a/../../b"), Err(BadName::Traversal));
        assert_eq!(validate(b"a/.."), Err(BadName::Traversal));
        assert_eq!(validate(b"./a"), Err(BadName::Traversal));
        assert_eq!(validate(b"a//b"), Err(BadName::Traversal));
        assert_eq!(validate(b"/etc/passwd"), Err(BadName::Absolute));
        assert_eq!(validate(b"..\\x"), Err(BadName::Absolute));
        assert_eq!(validate(b"a\0b"), Err(BadName::ControlChar));
        assert_eq!(validate(b"a\nb"), Err(BadName::ControlChar));
        assert_eq!(validate(&[0xff, 0xfe]), Err(BadName::NotUtf8));
        assert_eq!(validate(&[b'a'; MAX_NAME + 1]), Err(BadName::TooLong));
        assert!(validate(&[b'a'; MAX_NAME]).is_ok());
    }
}
