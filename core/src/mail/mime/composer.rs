//! The composer: the message structure, streamed through [`Read`].

use embedded_io::{ErrorType, Read};

use super::b64::{B64Lines, LINE_OUTPUT};
use super::crlf::{self, Crlf};
use super::header::{
    self, Address, DATE_LEN, EW_MAX_BYTES, Envelope, FOLD, NameForm, ew_len, ew_take,
    filename_is_plain, name_form, pct_len, pct_take, push_encoded_word, push_pct, push_quoted,
    quoted_len, subject_is_plain,
};
use super::qp::{self, QpEncoder};
use super::stage::Stage;
use super::{ComposeError, Field, MAX_LINE, TextEncoding};

/// A file attached to the message, sent in base64 with
/// `Content-Disposition: attachment`.
///
/// `filename`: any text but CR, LF and other controls, `/` or `\`, 1 to
/// 255 bytes. Printable ASCII names (no `"` or `\`, up to 200 bytes) go as
/// `filename="..."`; others as RFC 2231 `filename*=UTF-8''%E6%B8%AC...`,
/// split into `filename*0*=`, `filename*1*=`... continuations on lines of
/// at most 76 characters, never inside a UTF-8 character. The same goes
/// for the `name` parameter of `Content-Type`.
///
/// `content_type`: `type/subtype` without parameters, e.g.
/// `application/pdf`.
///
/// `source` is read to its end, 57 bytes at a time.
///
/// RAM: two `&str` (16 bytes on a 32-bit target) plus the source.
#[derive(Debug)]
pub struct Attachment<'a, R> {
    /// The file name the receiver sees.
    pub filename: &'a str,
    /// `type/subtype`.
    pub content_type: &'a str,
    /// The bytes.
    pub source: R,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Text,
    Html,
    Att(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Multi {
    Mixed,
    Alt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hf {
    From,
    To,
    Cc,
    Subject,
}

/// One step of the message plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Field(Hf),
    Date,
    MessageId,
    MimeVersion,
    /// `Content-Type: multipart/...; boundary=...` and the blank line.
    MultiHeader(Multi),
    /// `--boundary` (after a CRLF unless first).
    Delim(Multi, bool),
    /// CRLF `--boundary--`.
    Close(Multi),
    /// Content-Type and Content-Transfer-Encoding of the text or HTML part,
    /// and the blank line.
    TextHeaders(Which),
    AttHeaders(usize),
    Body(Which),
    FinalCrlf,
    End,
}

const HEAD: [Item; 7] = [
    Item::Field(Hf::From),
    Item::Field(Hf::To),
    Item::Field(Hf::Cc),
    Item::Field(Hf::Subject),
    Item::Date,
    Item::MessageId,
    Item::MimeVersion,
];

/// Where a header field or an attachment's header block stands.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    /// Address index, or the attachment header phase.
    idx: usize,
    /// Display name written (address lists).
    name_done: bool,
    form: NameForm,
    /// Byte offset in the text being written (name, subject, file name).
    off: usize,
    /// RFC 2231 segment number.
    seg: usize,
    /// Current line length.
    col: usize,
    /// No token written yet on this field.
    first: bool,
    ended: bool,
    plain: bool,
}

impl Cursor {
    const fn new(col: usize) -> Self {
        Self {
            idx: 0,
            name_done: false,
            form: NameForm::Atoms,
            off: 0,
            seg: 0,
            col,
            first: true,
            ended: false,
            plain: false,
        }
    }
}

/// Text bodies: source → 64-byte buffer → CRLF normalisation.
#[derive(Debug, Clone, Copy)]
struct TextPipe {
    inbuf: [u8; 64],
    pos: u8,
    len: u8,
    eof: bool,
    flushed: bool,
    crlf: Crlf,
    carry: crlf::Out,
    carry_pos: u8,
}

impl TextPipe {
    const fn new() -> Self {
        Self {
            inbuf: [0; 64],
            pos: 0,
            len: 0,
            eof: false,
            flushed: false,
            crlf: Crlf::new(),
            carry: crlf::Out::EMPTY,
            carry_pos: 0,
        }
    }

    /// The next normalised byte, `None` at the end.
    fn next_byte<R: Read>(&mut self, src: &mut R) -> Result<Option<u8>, ComposeError> {
        loop {
            if let Some(&b) = self.carry.as_slice().get(usize::from(self.carry_pos)) {
                self.carry_pos += 1;
                return Ok(Some(b));
            }
            if self.pos < self.len {
                let b = self.inbuf.get(usize::from(self.pos)).copied().unwrap_or(0);
                self.pos += 1;
                self.carry = self.crlf.push(b);
                self.carry_pos = 0;
                continue;
            }
            if self.eof {
                if self.flushed {
                    return Ok(None);
                }
                self.flushed = true;
                self.carry = self.crlf.finish();
                self.carry_pos = 0;
                continue;
            }
            let n = src.read(&mut self.inbuf).map_err(source_error)?;
            let n = n.min(self.inbuf.len());
            if n == 0 {
                self.eof = true;
            } else {
                self.pos = 0;
                self.len = n as u8;
            }
        }
    }
}

fn source_error<E: embedded_io::Error>(e: E) -> ComposeError {
    ComposeError::Source(e.kind())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 7bit (true) or 8bit (false) text, normalised and checked.
    Plain(bool),
    Qp,
    Base64Text,
    Attachment,
}

/// One body being encoded.
#[derive(Debug, Clone, Copy)]
struct Body {
    mode: Mode,
    pipe: TextPipe,
    lines: B64Lines,
    qp: QpEncoder,
    line_len: usize,
    last: u8,
    wrote: bool,
    finished: bool,
}

impl Body {
    const fn new(mode: Mode) -> Self {
        Self {
            mode,
            pipe: TextPipe::new(),
            lines: B64Lines::new(),
            qp: QpEncoder::new(),
            line_len: 0,
            last: 0,
            wrote: false,
            finished: false,
        }
    }

    /// Stages the next piece of encoded body; false at the end.
    fn fill<R: Read>(&mut self, src: &mut R, stage: &mut Stage) -> Result<bool, ComposeError> {
        if self.finished {
            return Ok(false);
        }
        match self.mode {
            Mode::Attachment => {
                let n = match line_slot(stage) {
                    Some(slot) => self.lines.next_line(src, slot).map_err(source_error)?,
                    None => 0,
                };
                stage.grow(n);
            }
            Mode::Base64Text => {
                while !self.lines.is_full() {
                    match self.pipe.next_byte(src)? {
                        Some(b) => {
                            self.lines.push(b);
                        }
                        None => break,
                    }
                }
                let n = match line_slot(stage) {
                    Some(slot) => self.lines.take_line(slot),
                    None => 0,
                };
                stage.grow(n);
            }
            Mode::Qp => {
                while stage.room() >= qp::MAX_STEP {
                    match self.pipe.next_byte(src)? {
                        Some(b) => {
                            let n = self.qp.push(b, stage.tail());
                            stage.grow(n);
                        }
                        None => {
                            let n = self.qp.finish(stage.tail());
                            stage.grow(n);
                            self.finished = true;
                            break;
                        }
                    }
                }
            }
            Mode::Plain(seven) => {
                while stage.room() >= 2 {
                    match self.pipe.next_byte(src)? {
                        Some(b) => {
                            match b {
                                b'\n' => self.line_len = 0,
                                b'\r' => {}
                                _ => {
                                    self.line_len += 1;
                                    if self.line_len > MAX_LINE || b == 0 || (seven && b >= 0x80) {
                                        return Err(ComposeError::BodyNeedsEncoding);
                                    }
                                }
                            }
                            stage.push(&[b]);
                            self.last = b;
                            self.wrote = true;
                        }
                        None => {
                            if self.wrote && self.last != b'\n' {
                                stage.push(b"\r\n");
                            }
                            self.finished = true;
                            break;
                        }
                    }
                }
            }
        }
        Ok(stage.len() > 0)
    }
}

/// The stage's first 78 bytes, for one base64 line.
fn line_slot(stage: &mut Stage) -> Option<&mut [u8; LINE_OUTPUT]> {
    stage
        .tail()
        .get_mut(..LINE_OUTPUT)
        .and_then(|s| <&mut [u8; LINE_OUTPUT]>::try_from(s).ok())
}

/// Streams one whole message: headers, then the text, HTML and
/// attachments, each pulled from its source as the output is read.
///
/// Use it as an [`embedded_io::Read`] source: every `read` fills the
/// buffer as far as it can (reading the body sources as needed) and `Ok(0)`
/// means the message is complete. Line ends are CRLF throughout; the
/// message ends with CRLF. Dot-stuffing is the SMTP layer's job.
///
/// To learn the size first (SMTP SIZE), compose the message once into a
/// byte counter and again for sending, with the same arguments and fresh
/// sources: the output is a pure function of the arguments and the
/// sources' bytes. The first pass also reveals a
/// [`ComposeError::BodyNeedsEncoding`] before anything is sent.
///
/// RAM: `size_of::<Composer<&[u8]>>()` is 440 bytes on
/// `thumbv7em-none-eabihf` (584 on x86_64; a compile-time check keeps it
/// under 1 KiB), two `&[u8]` sources included; other sources add their own
/// size twice (text and HTML; the attachments are borrowed). Of that: 130
/// bytes of staging (one header token, boundary line or encoded body line),
/// a 144-byte body state (64 bytes of text input, 57 bytes of base64 line
/// input, the QP and CRLF states), 64 bytes of [`Envelope`] (borrowed
/// strings) and 24 bytes of header cursor. Nothing depends on the size of
/// the bodies, attachments or address lists; a source is read 64 bytes (text)
/// or 57 bytes (attachments) at a time.
pub struct Composer<'a, R: Read> {
    env: Envelope<'a>,
    text: Option<(R, TextEncoding)>,
    html: Option<(R, TextEncoding)>,
    attachments: &'a mut [Attachment<'a, R>],
    seed: u64,
    subject_plain: bool,
    item: usize,
    sub: usize,
    cur: Cursor,
    body: Body,
    stage: Stage,
    mid: &'a [u8],
    post: &'static [u8],
    error: Option<ComposeError>,
    done: bool,
}

impl<R: Read> core::fmt::Debug for Composer<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Composer")
            .field("item", &self.item)
            .field("error", &self.error)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<'a, R: Read> Composer<'a, R> {
    /// Checks everything, then prepares the message; no byte is produced
    /// before [`read`](Read::read), and nothing is read from the sources
    /// here.
    ///
    /// - Every header text, attachment name and content type is checked
    ///   for CR and LF first ([`ComposeError::HeaderInjection`]); then
    ///   there must be at least one of `text`, `html` or `attachments`
    ///   ([`ComposeError::NoContent`]); then controls, address syntax, the
    ///   Message-ID domain, the date, the attachments' names and content
    ///   types are checked (see [`Envelope::validate`], [`Attachment`]).
    /// - Text and HTML come with their transfer encoding, normally from
    ///   [`choose`](super::choose). In a multipart message (text + HTML, or
    ///   any attachment) a `7bit` or `8bit` encoding is replaced by
    ///   quoted-printable, so that no content line can match a boundary;
    ///   [`text_encoding`](Self::text_encoding) tells the encoding used.
    /// - `boundary_seed` (random, or a counter) goes into the boundaries,
    ///   `=_mixed_{seed:016x}` and `=_alt_{seed:016x}`; they cannot collide
    ///   with the content whatever the seed (see the [module
    ///   docs](super)).
    pub fn new(
        envelope: Envelope<'a>,
        text: Option<(R, TextEncoding)>,
        html: Option<(R, TextEncoding)>,
        attachments: &'a mut [Attachment<'a, R>],
        boundary_seed: u64,
    ) -> Result<Self, ComposeError> {
        envelope.check_injection()?;
        for (i, a) in attachments.iter().enumerate() {
            header::check_injection(a.filename, Field::Attachment(i))?;
            header::check_injection(a.content_type, Field::Attachment(i))?;
        }
        if text.is_none() && html.is_none() && attachments.is_empty() {
            return Err(ComposeError::NoContent);
        }
        envelope.check_rest()?;
        for (i, a) in attachments.iter().enumerate() {
            header::check_attachment(a.filename, a.content_type, i)?;
        }
        let multipart = (text.is_some() && html.is_some()) || !attachments.is_empty();
        let fix = |part: Option<(R, TextEncoding)>| {
            part.map(|(r, e)| match e {
                TextEncoding::SevenBit | TextEncoding::EightBit if multipart => {
                    (r, TextEncoding::QuotedPrintable)
                }
                _ => (r, e),
            })
        };
        Ok(Self {
            subject_plain: subject_is_plain(envelope.subject),
            env: envelope,
            text: fix(text),
            html: fix(html),
            attachments,
            seed: boundary_seed,
            item: 0,
            sub: 0,
            cur: Cursor::new(0),
            body: Body::new(Mode::Attachment),
            stage: Stage::new(),
            mid: &[],
            post: &[],
            error: None,
            done: false,
        })
    }

    /// The text part's transfer encoding as sent.
    pub fn text_encoding(&self) -> Option<TextEncoding> {
        self.text.as_ref().map(|(_, e)| *e)
    }

    /// The HTML part's transfer encoding as sent.
    pub fn html_encoding(&self) -> Option<TextEncoding> {
        self.html.as_ref().map(|(_, e)| *e)
    }

    /// Whether the message is multipart (text + HTML, or attachments).
    pub fn is_multipart(&self) -> bool {
        (self.text.is_some() && self.html.is_some()) || !self.attachments.is_empty()
    }

    /// Whether the whole message has been read.
    pub fn is_done(&self) -> bool {
        self.done && self.pending() == 0
    }

    fn pending(&self) -> usize {
        self.stage.len() + self.mid.len() + self.post.len()
    }

    // ---- the plan -------------------------------------------------------

    fn body_part(&self, j: usize) -> Option<Item> {
        use Item::*;
        use Which::*;
        let items: &[Item] = match (self.text.is_some(), self.html.is_some()) {
            (true, true) => &[
                MultiHeader(Multi::Alt),
                Delim(Multi::Alt, true),
                TextHeaders(Text),
                Body(Text),
                Delim(Multi::Alt, false),
                TextHeaders(Html),
                Body(Html),
                Close(Multi::Alt),
            ],
            (true, false) => &[TextHeaders(Text), Body(Text)],
            (false, true) => &[TextHeaders(Html), Body(Html)],
            (false, false) => &[],
        };
        items.get(j).copied()
    }

    fn body_part_len(&self) -> usize {
        match (self.text.is_some(), self.html.is_some()) {
            (true, true) => 8,
            (false, false) => 0,
            _ => 2,
        }
    }

    // Not inlined: smaller in the firmware image (measured).
    #[inline(never)]
    fn item_at(&self, k: usize) -> Item {
        if let Some(&item) = HEAD.get(k) {
            return item;
        }
        let j = k - HEAD.len();
        let bp = self.body_part_len();
        let n = self.attachments.len();
        if n == 0 {
            return match self.body_part(j) {
                Some(item) => item,
                None if bp == 8 && j == bp => Item::FinalCrlf,
                None => Item::End,
            };
        }
        if j == 0 {
            return Item::MultiHeader(Multi::Mixed);
        }
        let mut j = j - 1;
        if bp > 0 {
            if j == 0 {
                return Item::Delim(Multi::Mixed, true);
            }
            j -= 1;
            if let Some(item) = self.body_part(j) {
                return item;
            }
            j -= bp;
        }
        let i = j / 3;
        if i < n {
            return match j % 3 {
                0 => Item::Delim(Multi::Mixed, bp == 0 && i == 0),
                1 => Item::AttHeaders(i),
                _ => Item::Body(Which::Att(i)),
            };
        }
        match j - 3 * n {
            0 => Item::Close(Multi::Mixed),
            1 => Item::FinalCrlf,
            _ => Item::End,
        }
    }

    // ---- units ----------------------------------------------------------

    /// Stages the next unit of the current item; false when it is over.
    fn next_unit(&mut self) -> Result<(), ComposeError> {
        loop {
            self.stage.clear();
            self.mid = &[];
            self.post = &[];
            let item = self.item_at(self.item);
            if item == Item::End {
                self.done = true;
                return Ok(());
            }
            if self.unit(item)? {
                self.sub = self.sub.saturating_add(1);
                return Ok(());
            }
            self.item += 1;
            self.sub = 0;
        }
    }

    fn unit(&mut self, item: Item) -> Result<bool, ComposeError> {
        let first = self.sub == 0;
        Ok(match item {
            Item::Field(Hf::From) => self.addresses(1, b"From:", Hf::From),
            Item::Field(Hf::To) => self.addresses(self.env.to.len(), b"To:", Hf::To),
            Item::Field(Hf::Cc) => self.addresses(self.env.cc.len(), b"Cc:", Hf::Cc),
            Item::Field(Hf::Subject) => self.subject(),
            Item::Date => {
                if first {
                    let mut date = [0u8; DATE_LEN];
                    header::format_date(self.env.date_unix, &mut date)?;
                    self.stage.push(b"Date: ");
                    self.stage.push(&date);
                    self.stage.push(b"\r\n");
                }
                first
            }
            Item::MessageId => {
                if first {
                    let id = self.env.message_id;
                    self.stage.push(b"Message-ID: <");
                    self.stage.push_hex16(id.unique);
                    self.stage.push(b".");
                    self.stage.push_dec(self.env.date_unix);
                    self.stage.push(b"@");
                    self.mid = id.domain.as_bytes();
                    self.post = b">\r\n";
                }
                first
            }
            Item::MimeVersion => {
                if first {
                    self.post = b"MIME-Version: 1.0\r\n";
                }
                first
            }
            Item::MultiHeader(m) => {
                if first {
                    self.stage.push(match m {
                        Multi::Mixed => b"Content-Type: multipart/mixed;\r\n boundary=\"",
                        Multi::Alt => b"Content-Type: multipart/alternative;\r\n boundary=\"",
                    });
                    self.push_boundary(m);
                    self.stage.push(b"\"\r\n\r\n");
                }
                first
            }
            Item::Delim(m, opening) => {
                if first {
                    if !opening {
                        self.stage.push(b"\r\n");
                    }
                    self.stage.push(b"--");
                    self.push_boundary(m);
                    self.stage.push(b"\r\n");
                }
                first
            }
            Item::Close(m) => {
                if first {
                    self.stage.push(b"\r\n--");
                    self.push_boundary(m);
                    self.stage.push(b"--");
                }
                first
            }
            Item::FinalCrlf => {
                if first {
                    self.post = b"\r\n";
                }
                first
            }
            Item::TextHeaders(w) => match self.sub {
                0 => {
                    self.post = if w == Which::Html {
                        b"Content-Type: text/html; charset=utf-8\r\n"
                    } else {
                        b"Content-Type: text/plain; charset=utf-8\r\n"
                    };
                    true
                }
                1 => {
                    let enc = match w {
                        Which::Html => self.html_encoding(),
                        _ => self.text_encoding(),
                    };
                    self.post = match enc.unwrap_or(TextEncoding::QuotedPrintable) {
                        TextEncoding::SevenBit => b"Content-Transfer-Encoding: 7bit\r\n\r\n",
                        TextEncoding::EightBit => b"Content-Transfer-Encoding: 8bit\r\n\r\n",
                        TextEncoding::QuotedPrintable => {
                            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                        }
                        TextEncoding::Base64 => b"Content-Transfer-Encoding: base64\r\n\r\n",
                    };
                    true
                }
                _ => false,
            },
            Item::AttHeaders(i) => self.attachment_headers(i),
            Item::Body(w) => self.body(w)?,
            Item::End => false,
        })
    }

    fn push_boundary(&mut self, m: Multi) {
        self.stage.push(match m {
            Multi::Mixed => b"=_mixed_",
            Multi::Alt => b"=_alt_",
        });
        self.stage.push_hex16(self.seed);
    }

    /// Stages a separator for a token of `len` characters: a space, or a
    /// fold (CRLF SP) when the token would pass column 76.
    fn separator(&mut self, len: usize) {
        let c = &mut self.cur;
        if !c.first && c.col + 1 + len > FOLD {
            self.stage.push(b"\r\n ");
            c.col = 1;
        } else {
            self.stage.push(b" ");
            c.col += 1;
        }
        c.first = false;
        c.col += len;
    }

    /// Stages the next encoded word of `text` from `off` (with its
    /// separator); returns the bytes it covers (at least one character).
    fn encoded_word(&mut self, text: &str, off: usize) -> usize {
        let rest = text.get(off..).unwrap_or("");
        let c = &mut self.cur;
        let here = ew_take(rest, FOLD.saturating_sub(c.col + 1));
        // Fold rather than leave a stub word at the end of a line.
        let n = if here > 0 && (here == rest.len() || here >= 15 || c.first) {
            self.stage.push(b" ");
            c.col += 1;
            here
        } else {
            self.stage.push(b"\r\n ");
            c.col = 1;
            ew_take(rest, FOLD - 1)
        };
        c.first = false;
        c.col += ew_len(n);
        push_encoded_word(rest.as_bytes().get(..n).unwrap_or(&[]), &mut self.stage);
        n.max(1)
    }

    fn addresses(&mut self, count: usize, label: &'static [u8], hf: Hf) -> bool {
        if self.sub == 0 {
            if count == 0 {
                return false;
            }
            self.cur = Cursor::new(label.len());
            self.post = label;
            return true;
        }
        let env = self.env;
        let list: &[Address<'a>] = match hf {
            Hf::To => env.to,
            Hf::Cc => env.cc,
            _ => &[],
        };
        let a = match hf {
            Hf::From if self.cur.idx == 0 => Some(env.from),
            _ => list.get(self.cur.idx).copied(),
        };
        let Some(a) = a else {
            if self.cur.ended {
                return false;
            }
            self.cur.ended = true;
            self.post = b"\r\n";
            return true;
        };
        if let (false, Some(name)) = (self.cur.name_done, a.display_name()) {
            self.name_token(name);
            return true;
        }
        let last = self.cur.idx + 1 >= count;
        let named = a.display_name().is_some();
        let len = a.addr.len() + if named { 2 } else { 0 } + usize::from(!last);
        self.separator(len);
        if named {
            self.stage.push(b"<");
        }
        self.mid = a.addr.as_bytes();
        self.post = match (named, last) {
            (true, true) => b">",
            (true, false) => b">,",
            (false, true) => b"",
            (false, false) => b",",
        };
        self.cur.idx += 1;
        self.cur.name_done = false;
        self.cur.off = 0;
        true
    }

    /// Stages the next token of display name `name`.
    fn name_token(&mut self, name: &'a str) {
        let off = self.cur.off;
        if off == 0 {
            self.cur.form = name_form(name);
        }
        let rest = name.get(off..).unwrap_or("");
        // The piece up to the next space, and where the one after starts.
        let (piece, next) = match rest.bytes().position(|b| b == b' ') {
            Some(sp) => (rest.get(..sp).unwrap_or(""), off + sp + 1),
            None => (rest, name.len()),
        };
        match self.cur.form {
            NameForm::Atoms => {
                self.separator(piece.len());
                self.mid = piece.as_bytes();
                self.cur.off = next;
            }
            NameForm::Quoted => {
                self.separator(quoted_len(name, true, true));
                push_quoted(name, true, true, &mut self.stage);
                self.cur.off = name.len();
            }
            NameForm::QuotedSplit => {
                let (open, close) = (off == 0, next >= name.len());
                self.separator(quoted_len(piece, open, close));
                push_quoted(piece, open, close, &mut self.stage);
                self.cur.off = next;
            }
            NameForm::Encoded => {
                // A name that fits one encoded word stays one word (see
                // `name_form` on why): fold first if the line is short.
                let whole = rest.len() <= EW_MAX_BYTES;
                if whole && !self.cur.first && self.cur.col + 1 + ew_len(rest.len()) > FOLD {
                    self.stage.push(b"\r\n");
                    self.cur.col = 0;
                    self.cur.first = true;
                }
                let n = self.encoded_word(name, off);
                self.cur.off = off + n;
            }
        }
        if self.cur.off >= name.len() {
            self.cur.name_done = true;
            self.cur.off = 0;
        }
    }

    fn subject(&mut self) -> bool {
        if self.sub == 0 {
            self.cur = Cursor::new(b"Subject:".len());
            self.post = b"Subject:";
            return true;
        }
        let s: &'a str = self.env.subject;
        let off = self.cur.off;
        if off >= s.len() {
            if self.cur.ended {
                return false;
            }
            self.cur.ended = true;
            self.post = b"\r\n";
            return true;
        }
        if self.subject_plain {
            let rest = s.get(off..).unwrap_or("");
            let (word, next) = match rest.bytes().position(|b| b == b' ') {
                Some(sp) => (rest.get(..sp).unwrap_or(""), off + sp + 1),
                None => (rest, s.len()),
            };
            self.separator(word.len());
            self.mid = word.as_bytes();
            self.cur.off = next;
        } else {
            let n = self.encoded_word(s, off);
            self.cur.off += n;
        }
        true
    }

    fn attachment_headers(&mut self, i: usize) -> bool {
        let Some(att) = self.attachments.get(i) else {
            return false;
        };
        let (filename, content_type) = (att.filename, att.content_type);
        if self.sub == 0 {
            self.cur = Cursor::new(0);
            self.cur.plain = filename_is_plain(filename);
        }
        loop {
            match self.cur.idx {
                0 => {
                    self.stage.push(b"Content-Type: ");
                    self.mid = content_type.as_bytes();
                    self.post = b";\r\n";
                    self.cur.idx = 1;
                    return true;
                }
                1 | 3 => {
                    let param: &[u8] = if self.cur.idx == 1 {
                        b"name"
                    } else {
                        b"filename"
                    };
                    if self.param(filename, param) {
                        return true;
                    }
                    self.cur.idx += 1;
                    self.cur.seg = 0;
                    self.cur.off = 0;
                }
                2 => {
                    self.post = b"Content-Transfer-Encoding: base64\r\n\
                                  Content-Disposition: attachment;\r\n";
                    self.cur.idx = 3;
                    return true;
                }
                4 => {
                    self.post = b"\r\n";
                    self.cur.idx = 5;
                    return true;
                }
                _ => return false,
            }
        }
    }

    /// Stages the next line of parameter `param` = `value`; false when the
    /// parameter is complete.
    fn param(&mut self, value: &'a str, param: &[u8]) -> bool {
        /// Percent-encoded characters per continuation line.
        const SEGMENT: usize = 54;
        /// Percent-encoded characters that fit one `name*=UTF-8''` line.
        const SINGLE: usize = 56;
        let c = &mut self.cur;
        if c.plain {
            if c.seg > 0 {
                return false;
            }
            c.seg = 1;
            self.stage.push(b" ");
            self.stage.push(param);
            self.stage.push(b"=\"");
            self.mid = value.as_bytes();
            self.post = b"\"\r\n";
            return true;
        }
        if pct_len(value.as_bytes()) <= SINGLE {
            if c.seg > 0 {
                return false;
            }
            c.seg = 1;
            self.stage.push(b" ");
            self.stage.push(param);
            self.stage.push(b"*=UTF-8''");
            push_pct(value.as_bytes(), &mut self.stage);
            self.stage.push(b"\r\n");
            return true;
        }
        let rest = value.get(c.off..).unwrap_or("");
        if rest.is_empty() {
            return false;
        }
        let n = pct_take(rest, SEGMENT).max(1);
        let chunk = rest.as_bytes().get(..n).unwrap_or(rest.as_bytes());
        let seg = c.seg;
        c.off += n;
        c.seg += 1;
        let more = c.off < value.len();
        self.stage.push(b" ");
        self.stage.push(param);
        self.stage.push(b"*");
        self.stage.push_dec(seg as u64);
        self.stage.push(b"*=");
        if seg == 0 {
            self.stage.push(b"UTF-8''");
        }
        push_pct(chunk, &mut self.stage);
        self.stage.push(if more { b";\r\n" } else { b"\r\n" });
        true
    }

    fn body(&mut self, w: Which) -> Result<bool, ComposeError> {
        let Self {
            text,
            html,
            attachments,
            body,
            stage,
            sub,
            ..
        } = self;
        let (src, mode) = match w {
            Which::Text | Which::Html => {
                let part = if w == Which::Text { text } else { html };
                let Some((src, enc)) = part.as_mut() else {
                    return Ok(false);
                };
                let mode = match enc {
                    TextEncoding::SevenBit => Mode::Plain(true),
                    TextEncoding::EightBit => Mode::Plain(false),
                    TextEncoding::QuotedPrintable => Mode::Qp,
                    TextEncoding::Base64 => Mode::Base64Text,
                };
                (src, mode)
            }
            Which::Att(i) => match attachments.get_mut(i) {
                Some(a) => (&mut a.source, Mode::Attachment),
                None => return Ok(false),
            },
        };
        if *sub == 0 {
            *body = Body::new(mode);
        }
        body.fill(src, stage)
    }

    fn drain(&mut self, out: &mut [u8]) -> usize {
        let mut n = self.stage.drain(out);
        n += take(&mut self.mid, out.get_mut(n..).unwrap_or(&mut []));
        n += take(&mut self.post, out.get_mut(n..).unwrap_or(&mut []));
        n
    }
}

/// Moves the front of `part` into `out`; returns how many bytes.
fn take(part: &mut &[u8], out: &mut [u8]) -> usize {
    let k = out.len().min(part.len());
    let (now, later) = part.split_at(k);
    if let Some(dst) = out.get_mut(..k) {
        dst.copy_from_slice(now);
    }
    *part = later;
    k
}

impl<R: Read> ErrorType for Composer<'_, R> {
    type Error = ComposeError;
}

impl<R: Read> Read for Composer<'_, R> {
    /// Fills `buf` with the next bytes of the message; `Ok(0)` at the end.
    /// An error (a source failure, or a body that does not fit 7bit/8bit)
    /// is returned once the bytes before it have been handed out, and from
    /// then on every call returns it.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ComposeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut n = 0;
        while let Some(rest) = buf.get_mut(n..) {
            if rest.is_empty() {
                break;
            }
            let k = self.drain(rest);
            if k > 0 {
                n += k;
                continue;
            }
            if self.done {
                break;
            }
            if let Err(e) = self.next_unit() {
                self.error = Some(e);
                if n == 0 {
                    return Err(e);
                }
                break;
            }
        }
        Ok(n)
    }
}

const _: () = assert!(core::mem::size_of::<Composer<'static, &'static [u8]>>() < 1024);
